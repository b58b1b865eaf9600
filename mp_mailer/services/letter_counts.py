"""Each campaign's count of sent letters, counted every few seconds per process, not per view."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mp_mailer.services.letters import count_letters_sent


class CachedLetterCounts:
    """Each campaign's count of sent letters, re-counted once it is `lifetime` old.

    Counting every letter on every view of the campaign page costs more as the campaign
    succeeds; a figure a few seconds old says the same to a supporter.
    """

    def __init__(self, lifetime: timedelta = timedelta(seconds=10)) -> None:
        self.lifetime = lifetime
        self._counts: dict[int, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def letters_sent(self, session: Session, campaign_id: int, now: datetime) -> int:
        entry = self._counts.get(campaign_id)
        if entry is not None and entry[0] <= now < entry[0] + self.lifetime:
            return entry[1]
        count = count_letters_sent(session, campaign_id)
        with self._lock:
            self._counts[campaign_id] = (now, count)
        return count
