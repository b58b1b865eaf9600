"""The base class of every refusal a service explains: its `message` is fit to show a person."""

from __future__ import annotations


class DomainError(Exception):
    """Something a person asked for that the rules refuse; `message` says why, in plain words.

    A subclass that always says the same thing sets `message` on the class instead.
    """

    message: str

    def __init__(self, message: str | None = None) -> None:
        if message:
            self.message = message
        super().__init__(self.message)
