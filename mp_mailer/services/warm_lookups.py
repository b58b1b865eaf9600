"""Recent answers kept in the process for a short while, so a repeat needs no query: postcode
lookups, the campaign a public page shows, a campaign's public reply figures."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Generic, TypeVar

Answer = TypeVar("Answer")


class WarmLookups(Generic[Answer]):
    """Answers by key (a postcode, a campaign's address or id), each trusted for `lifetime` after
    it was read from the database.

    The database stays the store every process shares; this only saves re-reading a fresh answer
    during a surge. The lifetime is short, so a change reaches every process within it. A clock
    moved backwards (as in tests) counts as a miss.
    """

    def __init__(self, lifetime: timedelta = timedelta(seconds=30), max_entries: int = 20_000):
        self.lifetime = lifetime
        self.max_entries = max_entries
        self._answers: dict[str, tuple[datetime, Answer]] = {}
        self._lock = threading.Lock()

    def find(self, key: str, now: datetime) -> Answer | None:
        entry = self._answers.get(key)
        if entry is None:
            return None
        stored_at, answer = entry
        if stored_at <= now < stored_at + self.lifetime:
            return answer
        return None

    def keep(self, key: str, answer: Answer, now: datetime) -> None:
        with self._lock:
            if len(self._answers) >= self.max_entries:
                # Simpler than LRU and just as good here: a surge asks for the same few keys.
                self._answers.clear()
            self._answers[key] = (now, answer)

    def forget(self) -> None:
        """Drop every answer (after this process changed the cache itself, e.g. sync-mps)."""
        with self._lock:
            self._answers.clear()
