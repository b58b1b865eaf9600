"""Recent postcode answers kept in the process for seconds, so a warm lookup needs no query."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Generic, TypeVar

Answer = TypeVar("Answer")


class WarmLookups(Generic[Answer]):
    """Answers by postcode, each trusted for `lifetime` after it was read from the database cache.

    The database stays the cache every process shares; this only saves re-reading a fresh answer
    during a surge. The lifetime is short, so a refreshed MP or contact reaches every process
    within it. A clock moved backwards (as in tests) counts as a miss.
    """

    def __init__(self, lifetime: timedelta = timedelta(seconds=30), max_entries: int = 20_000):
        self.lifetime = lifetime
        self.max_entries = max_entries
        self._answers: dict[str, tuple[datetime, Answer]] = {}
        self._lock = threading.Lock()

    def find(self, postcode: str, now: datetime) -> Answer | None:
        entry = self._answers.get(postcode)
        if entry is None:
            return None
        stored_at, answer = entry
        if stored_at <= now < stored_at + self.lifetime:
            return answer
        return None

    def keep(self, postcode: str, answer: Answer, now: datetime) -> None:
        with self._lock:
            if len(self._answers) >= self.max_entries:
                # Simpler than LRU and just as good here: a surge asks for the same few postcodes.
                self._answers.clear()
            self._answers[postcode] = (now, answer)

    def forget(self) -> None:
        """Drop every answer (after this process changed the cache itself, e.g. sync-mps)."""
        with self._lock:
            self._answers.clear()
