"""The Retry-After header, built here only: for a pending download, a service's refusal (a full queue,
an unavailable engine) and every 429, on pages and in the API alike."""
from __future__ import annotations

import math
import time

from werkzeug.exceptions import HTTPException

from ..extensions import limiter

DEFAULT_RATE_LIMIT_RETRY_S = 60


def retry_after(seconds: int | None) -> dict[str, str]:
    """The header for `seconds`, or no header when there is nothing to wait for."""
    return {"Retry-After": str(seconds)} if seconds else {}


def retry_after_error(error: Exception) -> dict[str, str]:
    """The header for an error: a rate limit's own reset, or the wait a service error names."""
    if isinstance(error, HTTPException) and error.code == 429:
        return retry_after(rate_limit_reset_s())
    return retry_after(getattr(error, "retry_after", None))


def rate_limit_reset_s() -> int:
    """Seconds until the limit this request hit lets requests through again."""
    current = limiter.current_limit
    if current is None:
        return DEFAULT_RATE_LIMIT_RETRY_S
    # reset_at is rounded up by a second; never ask for more than the limit's window.
    return max(1, min(current.limit.get_expiry(), math.ceil(current.reset_at - time.time())))
