"""Reading an API answer's body with a ceiling on the decoded size (a gzip bomb stays small).

httpx's own decoders inflate each network chunk whole (64 KB of gzip can become 64 MB), so the
raw bytes are read here and inflated with zlib's ``max_length``: memory never holds more than
the cap plus one chunk, whatever the server sends — a body that never ends, or 1 MB of gzip
that inflates to gigabytes. Only ``gzip`` and ``deflate`` are asked for and understood.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import httpx

from kling_studio.services.api_errors import AnswerTooLarge, ProtocolError

# Status, submit, upload and schema answers are a few KB; 1 MiB decoded is generous.
MAX_ANSWER_BYTES = 1 << 20
ACCEPT_ENCODING = "gzip, deflate"


class _Inflater:
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._raw_deflate_tried = encoding != "deflate"
        wbits = zlib.MAX_WBITS | 16 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._z = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        """At most ``room + 1`` decoded bytes (one more than fits tells the caller it overflowed)."""
        try:
            out = self._z.decompress(data, room + 1)
        except zlib.error:
            if self._started or self._raw_deflate_tried:
                raise
            # Some servers send "deflate" without the zlib header (raw deflate), as httpx tolerates.
            self._raw_deflate_tried = True
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._z.decompress(data, room + 1)
        self._started = True
        return out


async def raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as it came off the wire, a network chunk at a time.

    An in-memory answer (a test's ``MockTransport``) arrives already read: it is yielded whole.
    """
    try:
        preloaded = response.content
    except httpx.ResponseNotRead:
        async for chunk in response.aiter_raw():
            yield chunk
        return
    yield preloaded


def _inflater(response: httpx.Response, what: str) -> _Inflater | None:
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise ProtocolError(
            f"Could not {what}: the answer is encoded as {', '.join(codings)}, which Kling Studio did not ask for."
        )
    return _Inflater(codings[0])


async def read_capped(
    response: httpx.Response, *, what: str, limit: int = MAX_ANSWER_BYTES, strict: bool = True
) -> bytes:
    """The decoded body, at most ``limit`` bytes.

    ``strict``: a longer body is an ``AnswerTooLarge`` error; otherwise (error answers, where the
    status code is what matters) the first ``limit`` bytes are kept and the rest is not read.
    """
    try:
        # Only an in-memory answer (a test's MockTransport) arrives already read and decoded.
        preloaded: bytes | None = response.content
    except httpx.ResponseNotRead:
        preloaded = None
    if preloaded is not None:
        if len(preloaded) > limit:
            if not strict:
                return preloaded[:limit]
            raise _too_large(what, limit)
        return preloaded
    inflater = _inflater(response, what)
    out = bytearray()
    async for raw in response.aiter_raw():
        room = limit - len(out)
        if inflater is None:
            piece = raw
        else:
            try:
                piece = inflater.feed(raw, room)
            except zlib.error as exc:
                raise ProtocolError(
                    f"Could not {what}: the answer's {inflater.encoding} encoding is broken ({exc}).", retryable=True
                ) from None
        if len(piece) > room:
            if not strict:
                out += piece[:room]
                break
            raise _too_large(what, limit)
        out += piece
    return bytes(out)


def _too_large(what: str, limit: int) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"Could not {what}: the answer is larger than {limit // 1024} KiB (decoded); Kling Studio stopped reading it."
    )
