"""Fewer, larger, less-copied network reads for a video body (the download's speed).

A video download over a fast link is bound by the work done per network read, not by the bytes:
every read is a trip through asyncio, anyio, h11 and httpcore (a wake-up, two ``epoll_ctl``
calls, a cancel scope) and every byte is copied four times on the way (``recv`` → h11's buffer
→ a test slice → the extracted slice → httpcore's ``bytes``), then once more into the file.
Measured on 200 MB over loopback (``benchmarks/download_bench.py``, 2 cores): 256 KiB reads with
the four copies take ~0.25 s of body time and ~0.24 s of CPU; curl takes ~0.17 s. Three changes,
all of them invisible to what a caller sees:

- ``READ_BYTES``: httpcore asks for up to 1 MiB per read (its default is 64 KiB). A read returns
  what the socket holds, so small answers (status, submit) are not affected.
- ``large_reads``: asyncio's transport ``recv`` size (256 KiB, a class value) is raised to 1 MiB
  for the video's connection only, while its body is read, then restored. 1 MiB was the best of
  512 KiB / 1 MiB / 2 MiB (bigger buffers cost page faults); it makes a quarter of the trips.
- ``ReceiveBuffer.maybe_extract_at_most`` (h11, pinned 0.16.0): the original slices the whole
  buffer only to test it for emptiness, then slices it again to extract; when everything held is
  extracted (every read of a body) the buffer itself is handed over instead. Same value, same
  buffer state after, two copies fewer. Installed only on the h11 version it was read against.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpcore
import httpx
from h11._receivebuffer import ReceiveBuffer
from h11._version import __version__ as h11_version

READ_BYTES = 1024 * 1024
H11_CHECKED = "0.16.0"

httpcore.AsyncHTTP11Connection.READ_NUM_BYTES = max(httpcore.AsyncHTTP11Connection.READ_NUM_BYTES, READ_BYTES)


@contextmanager
def large_reads(response: httpx.Response) -> Iterator[None]:
    """Let this answer's socket be read ``READ_BYTES`` at a time, then give it back its size.

    The transport sits behind private attributes (httpcore's stream → anyio's stream → asyncio's
    transport); on a stack without them (a test's mock transport, TLS over another backend) the
    reads simply keep their size.
    """
    stream = getattr(response.extensions.get("network_stream"), "_stream", None)
    transport = getattr(stream, "_transport", None)
    size = getattr(transport, "max_size", None)
    if transport is None or not isinstance(size, int) or size >= READ_BYTES:
        yield
        return
    transport.max_size = READ_BYTES  # an instance value over the class's
    try:
        yield
    finally:
        with suppress(AttributeError):
            del transport.max_size  # the class's size again for the pooled connection


_original_extract_at_most = ReceiveBuffer.maybe_extract_at_most


def _extract_at_most(self: ReceiveBuffer, count: int) -> bytearray | None:
    """h11 0.16.0's ``maybe_extract_at_most`` without its two copies when all is taken."""
    data: bytearray = self._data
    if not data:
        return None
    if count < len(data):
        return _original_extract_at_most(self, count)  # a part (or none, for 0): h11's own way
    # The same as ``_extract(len(data))``: the bytes out, an empty buffer, the line searches reset.
    self._data = bytearray()
    self._next_line_search = 0
    self._multiple_lines_search = 0
    return data


def install_fast_extract() -> bool:
    """Swap in ``_extract_at_most`` when h11 is the version it was checked against; True when in."""
    if h11_version != H11_CHECKED:
        return False
    ReceiveBuffer.maybe_extract_at_most = _extract_at_most  # type: ignore[method-assign]
    return True


FAST_EXTRACT = install_fast_extract()
