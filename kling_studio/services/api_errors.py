"""Typed errors for the Kling (APIMart) HTTP API, each with plain words and a next step.

Every error the client raises is a ``KlingAPIError``; the engine decides from the type (and
``retryable``) what happens to a job, and the UI shows ``str(error)``: what went wrong, then what
to do about it. Messages never carry the API key: ``scrub`` removes it from server text first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

_MAX_SERVER_TEXT = 500


class KlingAPIError(Exception):
    """Base class: ``message`` says what happened, ``next_step`` what the user should do."""

    default_next_step = "Try again later."
    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        next_step: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.next_step = next_step if next_step is not None else self.default_next_step
        self.status = status
        self.retryable = self.default_retryable if retryable is None else retryable
        self.error_type = error_type
        # Seconds the server asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.message} {self.next_step}".strip()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class AuthError(KlingAPIError):
    default_next_step = "Check the API key in Settings (APIMart console → API keys), then try again."


class PaymentRequiredError(KlingAPIError):
    default_next_step = "Top up your APIMart balance, then retry the job."


class PermissionDeniedError(KlingAPIError):
    default_next_step = "Check that your APIMart account may use kling-3.0-turbo, or contact APIMart support."


class ValidationError(KlingAPIError):
    default_next_step = "Fix the setting named in the message and submit again."

    def __init__(self, message: str, *, param: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.param = param


class NotFoundError(KlingAPIError):
    default_next_step = "This task cannot be checked any more; retry the job to generate it again."


class RateLimitError(KlingAPIError):
    default_next_step = (
        "Kling Studio waits and retries by itself; if this keeps happening, run fewer jobs at the same time."
    )
    default_retryable = True


class ServerError(KlingAPIError):
    default_next_step = "The service is having trouble; check the job again in a few minutes."
    default_retryable = True


class NetworkError(KlingAPIError):
    default_next_step = "Check your internet connection (and proxy settings), then check the job again."
    default_retryable = True

    def __init__(self, message: str, *, outcome_unknown: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # True when the request may have reached the server (e.g. a read timeout after a submit):
        # the job must be checked, never silently sent again as a new one.
        self.outcome_unknown = outcome_unknown


class ProtocolError(KlingAPIError):
    default_next_step = (
        "The answer did not look like the Kling service's; check the base URL in Settings or try again later."
    )


class DownloadError(KlingAPIError):
    default_next_step = "Check the job again to fetch the video (the result link may have expired)."


class AnswerTooLarge(ProtocolError):
    """An API answer over the size cap (a never-ending body, a gzip bomb): it is not read on."""

    default_next_step = "Check the base URL in Settings; the service's answers are never this large."


class VideoTooLarge(DownloadError):
    """The video is over the ``max_video_mb`` setting; the download stopped and nothing was kept."""

    default_next_step = (
        "Raise the limit (setting max_video_mb, or the KLING_STUDIO_MAX_VIDEO_MB environment variable), "
        "then check the job again."
    )


class RequestTimeoutError(NetworkError):
    """HTTP 408: the server gave up waiting for our request (a slow link); safe to send again."""

    default_next_step = "Kling Studio retries by itself; check your connection if it keeps happening."


def scrub(text: str, secret: str | None) -> str:
    """Remove a secret (the API key) and token shapes from server text (``services.redact``)."""
    from kling_studio.services.redact import redact

    return redact(text, extra=(secret,))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_SERVER_TEXT else text[: _MAX_SERVER_TEXT - 1] + "…"


def looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:512].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html"))


def server_text(payload: Any) -> tuple[str | None, str | None, str | None]:
    """(message, type, param) from any of the error shapes the service is known to send."""
    if not isinstance(payload, Mapping):
        return None, None, None
    err = payload.get("error")
    if isinstance(err, Mapping):
        message = err.get("message")
        etype = err.get("type")
        param = err.get("param")
        text = str(message) if message not in (None, "") else json.dumps(dict(err), ensure_ascii=False, default=str)
        return text, (str(etype) if etype is not None else None), (str(param) if param is not None else None)
    if isinstance(err, str) and err:
        return err, None, None
    for key in ("message", "msg", "detail"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value, None, None
    return None, None, None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date); None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime
        from time import time

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def error_from_response(
    response: httpx.Response, *, what: str, secret: str | None = None, body: bytes | None = None
) -> KlingAPIError:
    """Map an HTTP error answer (status >= 400) to a typed error. ``what`` names the action.

    ``body``: the (size-capped) body when the response was streamed; else ``response.content``.
    """
    status = response.status_code
    if body is None:
        body = response.content
    content_type = response.headers.get("content-type", "")
    payload: Any = None
    try:
        payload = json.loads(body) if body else None
    except (ValueError, RecursionError):
        payload = None
    text, etype, param = server_text(payload)
    if text is None:
        if looks_like_html(body, content_type):
            text = f"the server answered with a web page instead of JSON (HTTP {status} {response.reason_phrase})"
        elif body:
            text = f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}"
        else:
            text = f"HTTP {status} {response.reason_phrase}".strip()
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return error_for_status(
        status, text, what=what, error_type=etype, param=param, retry_after=retry_after, secret=secret
    )


def error_for_status(
    status: int,
    text: str,
    *,
    what: str,
    error_type: str | None = None,
    param: str | None = None,
    retry_after: float | None = None,
    secret: str | None = None,
) -> KlingAPIError:
    """The typed error for an HTTP status (or an error code inside a 200 answer)."""
    text = _short(scrub(text, secret)).rstrip(".")
    param = scrub(param, secret) if param is not None else None
    error_type = scrub(error_type, secret) if error_type is not None else None
    common: dict[str, Any] = {"status": status, "error_type": error_type, "retry_after": retry_after}

    if status == 400 or status in (409, 413, 415, 422):
        detail = f" (parameter {param!r})" if param else ""
        return ValidationError(f"The service refused to {what}{detail}: {text}.", param=param, **common)
    if status == 401:
        return AuthError(f"The service did not accept the API key while trying to {what}: {text}.", **common)
    if status == 402:
        return PaymentRequiredError(f"Your APIMart balance is too low to {what}: {text}.", **common)
    if status == 403:
        return PermissionDeniedError(f"The account has no access to {what}: {text}.", **common)
    if status == 404:
        return NotFoundError(f"Not found while trying to {what}: {text}.", **common)
    if status == 408:
        return RequestTimeoutError(f"The service timed out waiting for the request to {what}: {text}.", **common)
    if status == 429:
        return RateLimitError(f"Too many requests while trying to {what}: {text}.", **common)
    if status >= 500:
        return ServerError(f"The service had an error (HTTP {status}) while trying to {what}: {text}.", **common)
    return KlingAPIError(f"Unexpected answer (HTTP {status}) while trying to {what}: {text}.", **common)


def request_error(exc: Exception, *, what: str, host: str, outcome_unknown: bool = False) -> KlingAPIError:
    """Any httpx failure as a typed error, so no request problem ends as an unexpected crash.

    Connection trouble (including a server breaking HTTP mid-answer) is a retryable
    ``NetworkError``; what retrying cannot fix — a redirect loop, a URL or header that cannot be
    sent, a scheme httpx cannot speak — is a permanent ``ProtocolError``; a body whose encoding is
    broken is a ``ProtocolError`` worth one more try.
    """
    detail = _short(str(exc).strip())
    suffix = f" ({detail})" if detail else ""
    if isinstance(exc, httpx.TooManyRedirects):
        return ProtocolError(f"Could not {what}: the server redirected too many times (a redirect loop){suffix}.")
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError(f"Could not {what}: the answer's encoding is broken{suffix}.", retryable=True)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ProtocolError(f"Could not {what}: the link is not an http(s) address{suffix}.")
    if isinstance(exc, httpx.LocalProtocolError):
        return ProtocolError(f"Could not {what}: the request could not be sent as valid HTTP{suffix}.")
    if isinstance(exc, httpx.RemoteProtocolError) and "location header" in detail.lower():
        # httpx reports a redirect to an unusable address this way: the server's answer, not the network.
        return ProtocolError(f"Could not {what}: the server redirected to an address that is not a valid URL{suffix}.")
    if isinstance(exc, httpx.RemoteProtocolError):
        err = NetworkError(
            f"Could not {what}: the server broke the HTTP exchange ({host}{': ' + detail if detail else ''}).",
            outcome_unknown=outcome_unknown,
        )
        err.__cause__ = exc
        return err
    if isinstance(exc, httpx.TransportError):
        return network_error(exc, what=what, host=host, outcome_unknown=outcome_unknown)
    if isinstance(exc, httpx.InvalidURL):
        return ProtocolError(f"Could not {what}: the server sent an address that is not a valid URL{suffix}.")
    return ProtocolError(
        f"Could not {what}: the answer could not be read ({type(exc).__name__}{': ' + detail if detail else ''})."
    )


def deadline_error(*, what: str, host: str, seconds: float, outcome_unknown: bool = False) -> NetworkError:
    """The whole request took longer than its deadline (a server trickling bytes, say)."""
    return NetworkError(
        f"Could not {what}: {host} took longer than {seconds:g} s to answer in full.", outcome_unknown=outcome_unknown
    )


def network_error(exc: httpx.TransportError, *, what: str, host: str, outcome_unknown: bool = False) -> NetworkError:
    """A typed error for a connection failure or timeout (httpx's message never holds headers)."""
    if isinstance(exc, httpx.TimeoutException):
        reason = "the connection timed out"
    elif isinstance(exc, httpx.ConnectError):
        reason = "the connection could not be made"
    else:
        reason = "the connection broke"
    detail = str(exc).strip()
    text = f"Could not {what}: {reason} ({host}{': ' + _short(detail) if detail else ''})."
    err = NetworkError(text, outcome_unknown=outcome_unknown)
    err.__cause__ = exc
    return err
