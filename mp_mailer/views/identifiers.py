"""Ids and numbers read from URLs, bounded to what the database can hold.

A 25-digit id is a page that does not exist (404) or a parameter that makes no sense, never an
integer too large for the database driver (OverflowError, a 500)."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

# PostgreSQL's integer columns; SQLite's are wider, so this bound suits both.
MAX_DATABASE_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every route: digits that fit an integer column, else no route matches."""

    def __init__(self, map: Map, max: int = MAX_DATABASE_ID) -> None:
        super().__init__(map, max=max)


def database_id(text: str) -> int:
    """For request.args.get(name, type=database_id): a ValueError there means "not given"."""
    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 10:
        raise ValueError("not an id")
    value = int(stripped)
    if value > MAX_DATABASE_ID:
        raise ValueError("not an id")
    return value
