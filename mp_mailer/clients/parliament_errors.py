"""What can go wrong asking the Members API: unavailable (retryable), paused by it, or an answer
we cannot use."""


class MembersApiError(Exception):
    """Any failure talking to the Members API."""


class MembersApiUnavailable(MembersApiError):
    """Retryable: connection error, timeout, 429 or 5xx, after the client's own retries."""


class MembersApiPaused(MembersApiUnavailable):
    """Parliament asked us to wait (429 or Retry-After), and the wait is not over: no call made."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MembersApiBadResponse(MembersApiError):
    """Permanent: a 4xx, malformed JSON or a payload of an unexpected shape."""


class MembersApiNotFound(MembersApiBadResponse):
    """A 404 for a member or constituency id."""
