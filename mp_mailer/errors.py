"""The base class of every refusal a service explains: its `message` is fit to show a person."""

from __future__ import annotations


class DomainError(Exception):
    """Something a person asked for that the rules refuse; `message` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
