"""Why a postcode does not lead to an MP we can write to, in words fit for the supporter."""

from __future__ import annotations

from mp_mailer.errors import DomainError


class LookupProblem(DomainError):
    """A postcode that does not lead to an MP we can write to; `message` is for the supporter."""

    message = "We could not find an MP for that postcode."


class NotAPostcode(LookupProblem):
    message = "Enter a full UK postcode, like SW1A 1AA."


class PostcodeNotFound(LookupProblem):
    message = (
        "We couldn't find that postcode. Check it against an envelope or bill: "
        "new postcodes can take a few months to reach Parliament's records."
    )


class NoWestminsterMp(LookupProblem):
    """Somewhere with a postcode but no MP in the House of Commons: outside the UK proper."""


class SeatVacant(LookupProblem):
    def __init__(self, constituency_name: str) -> None:
        super().__init__(
            f"{constituency_name} has no MP at the moment: the seat is vacant until a "
            "by-election. Please come back once a new MP has been elected."
        )
        self.constituency_name = constituency_name


class LookupUnavailable(LookupProblem):
    message = (
        "Parliament's MP finder isn't answering right now. Please try again in a few minutes: "
        "nothing you have typed has been lost."
    )


class TooManyLookups(LookupProblem):
    """One client address has used up its share of lookups that reach the Members API."""

    message = (
        "We have looked up a lot of postcodes from your internet connection in the last few "
        "minutes. Please wait a few minutes and try again: nothing you have typed has been lost."
    )


class LookupBusy(LookupUnavailable):
    """The site's own ceiling on Members API calls, or Parliament's request to wait."""

    message = (
        "So many people are finding their MP right now that we have to slow down for a "
        "moment. Please try again in a minute or two: nothing you have typed has been lost."
    )
