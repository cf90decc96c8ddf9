"""The async client for Kling 3.0 Turbo through APIMart (contract §1–4).

``KlingClient`` owns the application's one ``httpx.AsyncClient``. Every method either returns a
typed value or raises a ``KlingAPIError`` subclass with plain words and a next step; retries
follow the contract (reads retry freely, a submit only when a second copy cannot start a second
task). The API key travels only to the API's own origin and never reaches logs, error text or
``repr``. Bounded by design: an answer is read up to 1 MiB decoded (``api_body``), and every
request has an overall deadline (``retry.Deadlines``) besides httpx's per-read timeout.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import mimetypes
import os
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

import httpx

from kling_studio import __version__
from kling_studio.domain.limits import KLING_3_TURBO, MB
from kling_studio.services.api_body import ACCEPT_ENCODING, read_capped
from kling_studio.services.api_download import ProgressCallback, Verifier, check_download_url, download_file
from kling_studio.services.api_errors import (
    KlingAPIError,
    NotFoundError,
    ProtocolError,
    ValidationError,
    deadline_error,
    error_for_status,
    error_from_response,
    looks_like_html,
    request_error,
    scrub,
    server_text,
)
from kling_studio.services.api_guards import (
    RedactFilter,
    Secret,
    check_base_url,
    check_idempotency_key,
    clean_key,
    visible_ascii,
)
from kling_studio.services.api_models import TaskStatus, parse_submit, parse_upload
from kling_studio.services.redact import register_secret
from kling_studio.services.retry import (
    Deadlines,
    RetryPolicy,
    is_retryable_read,
    is_retryable_submit,
    submit_may_have_arrived,
)

log = logging.getLogger("kling_studio.api")

DEFAULT_BASE_URL = "https://api.apimart.ai"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Answers larger than this are parsed off the event loop (a few KB is the norm).
PARSE_ON_LOOP_BYTES = 64 * 1024
_NOT_JSON = object()


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _NOT_JSON


_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _redacting(
    func: Callable[Concatenate[KlingClient, _P], Awaitable[_R]],
) -> Callable[Concatenate[KlingClient, _P], Coroutine[Any, Any, _R]]:
    """Whatever a server echoed back, the errors a public method raises never hold the key."""

    @functools.wraps(func)
    async def wrapper(self: KlingClient, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await func(self, *args, **kwargs)
        except KlingAPIError as exc:
            self._redact(exc)
            raise

    return wrapper


def _sniff_image(data: bytes) -> str | None:
    for magic, content_type in _IMAGE_MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class KlingClient:
    """Submit, poll, upload, download and read the model schema; one instance per backend."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        response_version: str | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
        self._base = check_base_url(base_url)
        key = clean_key(api_key)
        register_secret(key)  # whatever a server echoes, this key is scrubbed at every boundary
        self._secret = Secret(key) if key else None
        if response_version is not None and (not response_version or not visible_ascii(response_version)):
            raise ValueError("The response version must be visible ASCII characters, e.g. 2026-07-27.")
        self._response_version = response_version
        self._retry = retry or RetryPolicy()
        self._deadlines = deadlines or Deadlines()
        self._sleep = sleep
        self._log_filter = RedactFilter(self._secret) if self._secret else None
        if self._log_filter is not None:
            log.addFilter(self._log_filter)
        # verify=True always: there is deliberately no switch to turn certificate checks off.
        self._http = httpx.AsyncClient(
            base_url=self._base,
            transport=transport,
            timeout=TIMEOUT,
            verify=True,
            follow_redirects=False,
            headers={"User-Agent": f"KlingStudio/{__version__}"},
        )

    # ----------------------------------------------------------------- lifecycle

    @property
    def _key(self) -> str | None:
        return self._secret.reveal() if self._secret else None

    @property
    def base_url(self) -> str:
        return str(self._base)

    @property
    def has_key(self) -> bool:
        return self._key is not None

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        if self._log_filter is not None:
            log.removeFilter(self._log_filter)
        await self._http.aclose()

    async def __aenter__(self) -> KlingClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"KlingClient(base_url={str(self._base)!r}, api_key={'set' if self._key else 'none'})"

    # ----------------------------------------------------------------- API calls

    @_redacting
    async def submit(self, request: Mapping[str, Any], idempotency_key: str) -> str:
        """Start a generation; returns the task id. Retried only with this same key."""
        check_idempotency_key(idempotency_key)
        body = json.dumps(dict(request), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        payload, response = await self._call(
            "POST",
            "/v1/videos/generations",
            what="submit the generation",
            retryable=is_retryable_submit,
            content=body.encode("utf-8"),
            headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key},
            submit=True,
        )
        task_id = parse_submit(payload)
        replayed = response.headers.get("idempotency-replayed", "").lower() == "true"
        log.info("Submitted task %s%s", task_id, " (the service replayed an earlier answer)" if replayed else "")
        return task_id

    @_redacting
    async def get_task(self, task_id: str, *, language: str = "en") -> TaskStatus:
        if not isinstance(task_id, str) or not task_id.strip():
            raise ValueError("A task id is needed to check a task.")
        payload, _ = await self._call(
            "GET",
            f"/v1/tasks/{quote(task_id, safe='')}",
            what=f"check task {task_id}",
            retryable=is_retryable_read,
            params={"language": language},
        )
        return TaskStatus.from_response(payload, task_id=task_id)

    @_redacting
    async def upload_image(
        self,
        path: str | os.PathLike[str],
        *,
        data: bytes | None = None,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """Upload a first frame (the file at ``path``, or ``data``); returns the hosted URL."""
        source = Path(path)
        if data is None:
            data = await asyncio.to_thread(source.read_bytes)
        name = filename or source.name or "image"
        ctype = content_type or _sniff_image(data) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        limit = KLING_3_TURBO.upload_max_bytes
        if len(data) > limit:
            raise ValidationError(
                f"The image is {len(data) / MB:.1f} MB; the upload limit is {limit // MB} MB.",
                next_step="Use a smaller image (Kling Studio re-encodes large images as JPEG before upload).",
            )
        payload, _ = await self._call(
            "POST",
            "/v1/uploads/images",
            what="upload the first-frame image",
            retryable=is_retryable_read,
            files={"file": (name, data, ctype)},
            deadline=self._deadlines.upload,
        )
        return parse_upload(payload)

    @_redacting
    async def model_schema(self) -> dict[str, Any]:
        payload, _ = await self._call(
            "GET",
            "/v1/model-schema",
            what="read the model schema",
            retryable=is_retryable_read,
            params={"model": KLING_3_TURBO.model, "operation": "video_generation"},
        )
        if isinstance(payload, dict) and "input_schema" not in payload and isinstance(payload.get("data"), dict):
            payload = payload["data"]
        if not isinstance(payload, dict) or not isinstance(payload.get("input_schema"), dict):
            raise ProtocolError("The model schema answer had no input_schema object.")
        return payload

    @_redacting
    async def download(
        self,
        url: str,
        dest: Path,
        on_progress: ProgressCallback | None = None,
        *,
        max_bytes: int | None = None,
        verify: Verifier | None = None,
    ) -> Path:
        """Fetch a result video to ``dest`` (atomically); ``on_progress(done, total or None)``.

        ``max_bytes`` caps the file (``VideoTooLarge``); ``verify(part_path)`` runs in a thread
        before the file takes its name and may raise a ``DownloadError`` (the engine passes the
        PyAV probe). An interrupted download keeps ``.<name>.part`` and the next call resumes it.
        """
        target = check_download_url(url)
        return await download_file(
            self._http,
            url,
            Path(dest),
            policy=self._retry,
            sleep=self._sleep,
            headers=self._download_headers(target),
            on_progress=on_progress,
            secret=self._key,
            max_bytes=max_bytes,
            verify=verify,
            deadline=self._deadlines.download,
        )

    # ----------------------------------------------------------------- plumbing

    def _redact(self, exc: KlingAPIError) -> None:
        key = self._key
        if key:
            for name, value in list(vars(exc).items()):
                if isinstance(value, str):
                    setattr(exc, name, scrub(value, key))
            exc.args = tuple(scrub(a, key) if isinstance(a, str) else a for a in exc.args)

    def _api_headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        # Only encodings the capped reader can inflate step by step (never br/zstd).
        headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        if self._response_version:
            headers["X-APIMart-Response-Version"] = self._response_version
        if extra:
            headers.update(extra)
        return headers

    def _download_headers(self, url: httpx.URL) -> dict[str, str]:
        # Result links live on other hosts (a CDN): the key goes only to the API's own origin.
        same_origin = (url.scheme, url.host, url.port) == (self._base.scheme, self._base.host, self._base.port)
        headers = {"Accept": "*/*"}
        if same_origin and self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    async def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        retryable: Callable[[KlingAPIError], bool],
        submit: bool = False,
        headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
        **kwargs: Any,
    ) -> tuple[Any, httpx.Response]:
        attempts = self._retry.max_attempts
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(
                method,
                path,
                what=what,
                submit=submit,
                headers=headers,
                deadline=deadline or self._deadlines.api,
                **kwargs,
            )
            if not isinstance(outcome, KlingAPIError):
                return outcome
            error = outcome
            if isinstance(error, NotFoundError) and not path.startswith("/v1/tasks/"):
                error.next_step = "Check the base URL in Settings: the service has no such address."
            if attempt >= attempts or not retryable(error):
                raise error
            delay = self._retry.delay(attempt, error.retry_after)
            log.warning(
                "Could not %s (attempt %d of %d): %s Retrying in %.1f s.", what, attempt, attempts, error.message, delay
            )
            await self._sleep(delay)

    async def _attempt(
        self,
        method: str,
        path: str,
        *,
        what: str,
        submit: bool,
        headers: Mapping[str, str] | None,
        deadline: float,
        **kwargs: Any,
    ) -> tuple[Any, httpx.Response] | KlingAPIError:
        host = self._base.host
        try:
            # One deadline for the whole exchange: a server trickling bytes cannot hold the call.
            async with asyncio.timeout(deadline):
                request = self._http.build_request(method, path, headers=self._api_headers(headers), **kwargs)
                response = await self._http.send(request, stream=True)
                try:
                    # Error answers keep their first MiB; a success must fit whole or is refused.
                    body = await read_capped(response, what=what, strict=response.is_success)
                finally:
                    await response.aclose()
        except TimeoutError:
            return deadline_error(what=what, host=host, seconds=deadline, outcome_unknown=submit)
        except KlingAPIError as exc:
            return exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            unknown = submit and isinstance(exc, httpx.TransportError) and submit_may_have_arrived(exc)
            return request_error(exc, what=what, host=host, outcome_unknown=unknown)
        log.debug("%s %s -> %d", method, path, response.status_code)
        if not response.is_success:
            return error_from_response(response, what=what, secret=self._key, body=body)
        # A big answer (up to the 1 MiB cap) is parsed in a thread: the loop keeps running.
        parsed = _loads(body) if len(body) <= PARSE_ON_LOOP_BYTES else await asyncio.to_thread(_loads, body)
        return self._interpret(response, body, parsed, what=what)

    def _interpret(
        self, response: httpx.Response, body: bytes, parsed: Any, *, what: str
    ) -> tuple[Any, httpx.Response] | KlingAPIError:
        """A 2xx answer's JSON, or the error it carries in its body."""
        payload = parsed
        if payload is _NOT_JSON:  # not JSON, or nested deeper than Python recurses
            kind = "a web page" if looks_like_html(body, response.headers.get("content-type", "")) else "text"
            return ProtocolError(
                f"Could not {what}: the server answered with {kind} instead of JSON (HTTP {response.status_code})."
            )
        if isinstance(payload, Mapping):
            text, etype, param = server_text(payload)
            if payload.get("success") is False:
                return ProtocolError(f"Could not {what}: the service said: {scrub(text or 'failure', self._key)}.")
            code = payload.get("code")
            err = payload.get("error")
            if isinstance(err, Mapping) and isinstance(err.get("code"), int):
                code = err["code"]
            if "data" not in payload and (err or (isinstance(code, int) and code >= 400)):
                if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
                    return error_for_status(
                        code, text or "", what=what, error_type=etype, param=param, secret=self._key
                    )
                return ProtocolError(f"Could not {what}: the service said: {scrub(text or str(err), self._key)}.")
        return payload, response
