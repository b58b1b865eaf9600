"""Which pages another site may show in a frame: only those marked `frameable`.

Security headers forbid framing on every response; the code that sets them asks
`is_frameable(view)` and lets a marked view's response be framed by any site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

View = TypeVar("View", bound=Callable[..., Any])
FRAMEABLE_ATTRIBUTE = "frameable"


def frameable(view: View) -> View:
    """Mark a view whose page campaigns embed on their own websites in an iframe."""
    setattr(view, FRAMEABLE_ATTRIBUTE, True)
    return view


def is_frameable(view: Callable[..., Any] | None) -> bool:
    return bool(getattr(view, FRAMEABLE_ATTRIBUTE, False))
