"""The one exception hierarchy of fini-async.

Everything the SDK raises on purpose derives from :class:`FiniError`::

    FiniError
    ├── ValidationError (also ValueError)   bad arguments, raised before any request
    │   └── ConfigurationError              no API key, bad base URL, ...
    ├── ClientStateError (also RuntimeError) closed client, client used from two event loops
    ├── APIError                            anything that went wrong talking to the API
    │   ├── APIStatusError                  the server answered with an error status
    │   │   ├── BadRequestError             400
    │   │   ├── AuthenticationError         401
    │   │   ├── PermissionDeniedError       403
    │   │   ├── NotFoundError               404
    │   │   ├── NotAcceptableError          406 (bulk deletes that were partly refused)
    │   │   │   └── BulkDeleteError         406 from some calls of a split bulk delete
    │   │   ├── ConflictError               409
    │   │   ├── UnprocessableEntityError    422
    │   │   ├── RateLimitError              429
    │   │   └── InternalServerError         >= 500
    │   ├── APIConnectionError              no usable answer: refused, reset, DNS, TLS, ...
    │   │   └── APITimeoutError             connect / read / pool / stream-idle / total timeout
    │   ├── APIResponseValidationError      a 2xx body the SDK could not decode
    │   └── StreamError                     a stream broke after it had started
    └── JobError                            background knowledge jobs
        ├── JobFailedError                  the job ended in FAILED
        └── JobTimeoutError                 the job did not finish in time

No exception message, ``repr`` or attribute ever holds an API key or a bearer token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import yarl

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BulkDeleteError",
    "ClientStateError",
    "ConfigurationError",
    "ConflictError",
    "FiniError",
    "InternalServerError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "NotAcceptableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamError",
    "UnprocessableEntityError",
    "ValidationError",
]


class FiniError(Exception):
    """Base class of every error raised by fini-async."""


class ValidationError(FiniError, ValueError):
    """An argument is invalid. Raised before any request is sent, so nothing reached the server."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The name of the offending argument or field, when there is one.
        self.field = field


class ConfigurationError(ValidationError):
    """The client is misconfigured: no API key anywhere, an unusable base URL, conflicting ids.

    Raised at the first request (never in a constructor that could run at import time)."""


class ClientStateError(FiniError, RuntimeError):
    """The client cannot be used in its current state.

    Raised when a closed client is used, or when one client is used from a second event loop
    (its connection pool belongs to the loop that first used it)."""


class APIError(FiniError):
    """Something went wrong talking to the API. Carries the request's method and URL."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class APIStatusError(APIError):
    """The server answered with a status code >= 400.

    ``message`` is readable whatever the body was: a NestJS error object (``message`` as a
    string or a list), Sharely's ``{error, message, details}``, or a body that is not JSON at all
    (an HTML 502 page). ``body`` keeps the decoded JSON body (or the raw text when it was not
    JSON). ``retry_after`` is the wait in seconds the server asked for, if it did.

    Redirects are never followed (they would carry the API key or token, and a request body, to
    another address): a 3xx answer raises this class, its message naming the ``Location``."""

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.retry_after: float | None = retry_after

    def __str__(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        where = f" [{self.method} {self.url}]" if self.method else ""
        return f"{self.status_code}: {self.message}{rid}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r})"


class BadRequestError(APIStatusError):
    """400: the server refused the request's content."""


class AuthenticationError(APIStatusError):
    """401: the API key (or Sharely access token) is missing, malformed, revoked or invalid."""


class PermissionDeniedError(APIStatusError):
    """403: the key lacks the scope the route needs (for example ``write``)."""


class NotFoundError(APIStatusError):
    """404: the resource, or one of several ids sent together, is unknown."""


class NotAcceptableError(APIStatusError):
    """406: some ids of a bulk call were inaccessible (the others were processed anyway)."""


class BulkDeleteError(NotAcceptableError):
    """406 from one or more calls of a bulk delete split into several calls. Every call was made;
    in each refused call the accessible ids were deleted anyway. ``failed_calls`` holds the ids
    of each refused call (``failed_ids`` all of them), ``call_numbers`` their 1-based positions
    among ``total_calls`` calls, and ``errors`` each call's own :class:`NotAcceptableError`."""

    def __init__(
        self,
        message: str,
        *,
        failed_calls: list[list[str]],
        call_numbers: list[int],
        total_calls: int,
        errors: list[APIStatusError],
    ) -> None:
        first = errors[0] if errors else None
        super().__init__(
            message,
            status_code=406,
            body=first.body if first is not None else None,
            request_id=first.request_id if first is not None else None,
            method=first.method if first is not None else "",
            url=first.url if first is not None else "",
            headers=first.headers if first is not None else None,
        )
        self.failed_calls = failed_calls
        self.call_numbers = call_numbers
        self.total_calls = total_calls
        self.errors = errors

    @property
    def failed_ids(self) -> list[str]:
        """The ids of every refused call (some of them may have been deleted)."""
        return [i for call in self.failed_calls for i in call]


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class UnprocessableEntityError(APIStatusError):
    """422: the server understood the request but cannot process its content."""


class RateLimitError(APIStatusError):
    """429 after the retries ran out, or at once when the server's ``Retry-After`` exceeds the
    client's cap (``max_retry_after``). ``retry_after`` is in seconds, or None."""


class InternalServerError(APIStatusError):
    """>= 500: the server failed. Retried for requests that are safe to repeat."""


class APIConnectionError(APIError):
    """No usable response: the connection was refused, reset or closed, DNS or TLS failed, or
    the peer did not speak HTTP. ``str()`` ends with ``[METHOD URL]`` (also ``method``, ``url``)."""

    def __str__(self) -> str:
        where = f" [{self.method} {self.url}]" if self.method else ""
        return f"{self.message}{where}"


class APITimeoutError(APIConnectionError):
    """A timeout expired. ``kind`` says which: ``connect``, ``pool``, ``read``, ``stream_idle``
    or ``total``."""

    def __init__(
        self, message: str, *, kind: str = "read", method: str = "", url: str = ""
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.kind = kind


class APIResponseValidationError(APIError):
    """A successful response whose body is not what the API documents (not JSON, wrong types)."""

    def __init__(
        self, message: str, *, body: bytes = b"", status_code: int = 200, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.body = body
        self.status_code = status_code


class StreamError(APIError):
    """A stream broke after it had started (connection cut, idle timeout, malformed framing).

    ``text`` holds the answer text received before the break; ``cause`` is the underlying error
    (an :class:`APIConnectionError` or :class:`APITimeoutError`)."""

    def __init__(self, message: str, *, text: str = "", method: str = "", url: str = "") -> None:
        super().__init__(message, method=method, url=url)
        self.text = text


class JobError(FiniError):
    """Base class of the errors about background jobs. ``job`` is the last status seen."""

    def __init__(self, message: str, *, job: Any = None) -> None:
        super().__init__(message)
        self.job = job


class JobFailedError(JobError):
    """The background job ended in a failed state (``FAILED``)."""


class JobTimeoutError(JobError):
    """The job did not reach a terminal state within the wait's ``timeout``. ``job`` is the last
    status seen (None if none was seen); the job can be waited on again later."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    406: NotAcceptableError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


#: How deep ``_text_of`` looks into an error body for its message (bodies nest a level or two).
_TEXT_DEPTH = 8


def _text_of(value: Any, depth: int = 0) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if depth >= _TEXT_DEPTH:
        return None
    depth += 1
    if isinstance(value, list):
        parts = [p for p in (_text_of(v, depth) for v in value) if p]
        return "; ".join(parts) or None
    if isinstance(value, Mapping):
        return _text_of(value.get("message"), depth) or _text_of(value.get("error"), depth)
    return None


def parse_error_body(raw: bytes, status: int) -> tuple[str, Any]:
    """A readable message and the decoded body of an error response, whatever its shape."""
    body: Any
    try:
        body = msgspec.json.decode(raw) if raw else None
    except (msgspec.DecodeError, RecursionError):  # not JSON, or nested too deeply to decode
        text = raw.decode("utf-8", "replace")
        body = text
        flat = " ".join(_strip_tags(text).split())
        return (flat[:200] or f"HTTP {status} with a non-JSON body"), body
    message: str | None = None
    if isinstance(body, Mapping):
        message = (
            _text_of(body.get("message"))
            or _text_of(body.get("error"))
            or _text_of(body.get("detail"))
            or _text_of(body.get("details"))
        )
    elif body is not None:
        message = _text_of(body)
    return message or f"HTTP {status}", body


def _strip_tags(text: str) -> str:
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">" and depth:
            depth -= 1
            out.append(" ")
        elif not depth:
            out.append(ch)
    return "".join(out)


def redirect_error(
    status: int,
    raw: bytes,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    request_id: str | None,
) -> APIStatusError:
    """The error for a 3xx answer: redirects are not followed, so that credentials and request
    bodies never go to an address the caller did not choose."""
    location = headers.get("Location")
    where = "without a Location"
    if location:
        try:
            # Without userinfo: credentials in a URL are never echoed.
            target = yarl.URL(url).join(yarl.URL(location)).with_user(None)
            where = f"to {target}"
        except ValueError:
            where = "to an unusable Location"
    _, body = parse_error_body(raw, status)
    return APIStatusError(
        f"the server redirected {where}; redirects are not followed (credentials and request "
        "bodies are never sent to another address): point base_url at the final address",
        status_code=status,
        body=body,
        request_id=request_id,
        method=method,
        url=url,
        headers=headers,
    )


def make_status_error(
    status: int,
    raw: bytes,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    request_id: str | None,
    retry_after: float | None = None,
) -> APIStatusError:
    """Build the typed exception for an error response."""
    message, body = parse_error_body(raw, status)
    cls = status_error_class(status)
    return cls(
        message,
        status_code=status,
        body=body,
        request_id=request_id,
        method=method,
        url=url,
        headers=headers,
        retry_after=retry_after,
    )
