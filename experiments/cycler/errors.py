"""Errors talking to a cycler service (what the client raises).

A rejected follow-up on a sample raises a :class:`CyclerSampleError` subclass that a
campaign loop can act on without retrying: the sample is used up
(:class:`SampleConsumedError`), belongs to another campaign
(:class:`SampleNotInCampaignError`), or is not known to the service
(:class:`UnknownSampleError`). All of them are :class:`CyclerRejectedError`, so code that
handles rejections in general keeps working.
"""

from __future__ import annotations

from physics.errors import GBSError

__all__ = [
    "SAMPLE_ERROR_CODES",
    "CyclerAuthError",
    "CyclerError",
    "CyclerProtocolError",
    "CyclerRejectedError",
    "CyclerSampleError",
    "CyclerUnavailableError",
    "CyclerVersionError",
    "SampleConsumedError",
    "SampleNotInCampaignError",
    "UnknownSampleError",
    "rejection",
]


class CyclerError(GBSError):
    """Base class of errors talking to a cycler service."""


class CyclerAuthError(CyclerError):
    """The service refused the token (HTTP 401)."""


class CyclerRejectedError(CyclerError):
    """The service rejected the request (HTTP 400/404/409): retrying will not help.

    Attributes:
        status_code: The HTTP status (400 with code ``not_sent`` when the client refused
            to send the request at all).
        code: The service's ``error.code`` (None when the answer had no error body).
    """

    def __init__(self, message: str, status_code: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


class CyclerSampleError(CyclerRejectedError):
    """A follow-up job was refused because of its sample; ``code`` says why.

    Besides the three codes of protocol 1.1 (the subclasses), a service may send other
    ``sample_*`` codes (the project's simulator sends ``sample_not_ready`` while the
    sample's own job is still running); they raise this class itself.
    """


class SampleConsumedError(CyclerSampleError):
    """409 ``sample_consumed``: the sample is used up (a CCD staircase plated it through)."""


class SampleNotInCampaignError(CyclerSampleError):
    """409 ``sample_not_in_campaign``: the sample belongs to another campaign."""


class UnknownSampleError(CyclerSampleError):
    """404 ``unknown_sample``: the service knows no sample of that id."""


class CyclerVersionError(CyclerRejectedError):
    """The request needs a newer protocol than the service speaks (nothing was sent)."""


class CyclerUnavailableError(CyclerError):
    """The service stayed unreachable or busy after all retries."""


class CyclerProtocolError(CyclerError):
    """The service answered something the protocol does not allow (garbage, NaN, wrong type)."""


#: The rejection codes of protocol 1.1 about a follow-up's sample, and their errors.
SAMPLE_ERROR_CODES: dict[str, type[CyclerSampleError]] = {
    "sample_consumed": SampleConsumedError,
    "sample_not_in_campaign": SampleNotInCampaignError,
    "unknown_sample": UnknownSampleError,
}


def rejection(message: str, status_code: int, code: str | None) -> CyclerRejectedError:
    """The error for a 4xx answer: a :class:`CyclerSampleError` subclass for sample codes.

    Args:
        message: Human text (already naming the request).
        status_code: HTTP status.
        code: The service's ``error.code``, or None.
    """
    if code in SAMPLE_ERROR_CODES:
        return SAMPLE_ERROR_CODES[code](message, status_code, code)
    if code is not None and code.startswith("sample_") and status_code in (404, 409):
        return CyclerSampleError(message, status_code, code)
    return CyclerRejectedError(message, status_code, code)
