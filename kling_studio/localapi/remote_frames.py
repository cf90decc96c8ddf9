"""First frames at URLs this server did not issue: fetched as the real service would fetch them.

The fetch runs on the render thread, bounded in every way a hostile URL could stretch it:
https (or plain http to a loopback address, for tests and local tools), no redirects, a short
per-read timeout and an overall deadline, the upload route's 20 MB counted while streaming, and
the same picture rules as an upload, judged from the header before anything is decoded. Any
problem becomes ``FrameFetchError`` with a sentence for the task's ``error.message``.
"""

from __future__ import annotations

import io
import ipaddress
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PIL import Image, UnidentifiedImageError

from kling_studio.domain.first_frame import check_pixel_count
from kling_studio.domain.limits import KLING_3_TURBO, MB, LimitsProfile
from kling_studio.localapi.errors import ApiError
from kling_studio.localapi.validation import check_first_frame, displayed_size

_IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}


class FrameFetchError(Exception):
    """The first frame could not be used; the message is shown as the task's error."""


@dataclass(frozen=True)
class RemoteFrame:
    """A first-frame URL to fetch before rendering, and where to keep the fetched copy."""

    url: str
    dest: Path
    timeout_s: float = 5.0


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_fetchable(url: str) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return
    if scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return
    raise FrameFetchError(
        f"first_frame_image could not be fetched: {url[:120]!r} is not an https URL "
        "(plain http is fetched only from this machine)."
    )


def fetch_first_frame(frame: RemoteFrame, profile: LimitsProfile = KLING_3_TURBO) -> tuple[Path, tuple[int, int]]:
    """Download, check and keep the image; returns its path and displayed size."""
    check_fetchable(frame.url)
    data = _download(frame.url, frame.timeout_s, profile.upload_max_bytes)
    image_format, size = _judge(data, profile)
    path = frame.dest.with_suffix(_IMAGE_FORMATS[image_format])
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path, size


def _download(url: str, timeout_s: float, limit: int) -> bytes:
    deadline = time.monotonic() + 3 * timeout_s  # a slow drip cannot hold a render thread
    chunks: list[bytes] = []
    received = 0
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client,
            client.stream("GET", url, headers={"Accept": "image/*"}) as response,
        ):
            if response.status_code != 200:
                raise FrameFetchError(
                    f"first_frame_image could not be fetched: {url[:120]} answered HTTP {response.status_code}."
                )
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > limit:
                    raise FrameFetchError(
                        f"first_frame_image could not be used: the image is over the {limit // MB} MB limit."
                    )
                if time.monotonic() > deadline:
                    raise FrameFetchError(
                        f"first_frame_image could not be fetched: {url[:120]} took longer than {3 * timeout_s:g} s."
                    )
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise FrameFetchError(f"first_frame_image could not be fetched from {url[:120]}: {reason}.") from None
    if not received:
        raise FrameFetchError(f"first_frame_image could not be used: {url[:120]} answered an empty body.")
    return b"".join(chunks)


def _judge(data: bytes, profile: LimitsProfile) -> tuple[str, tuple[int, int]]:
    """The upload route's checks and the model's first-frame rules, from the header only."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            too_many = check_pixel_count(*image.size, profile)
            size = image.size if too_many is not None else displayed_size(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise FrameFetchError("first_frame_image could not be used: the URL does not hold a readable image.") from None
    if too_many is not None:
        raise FrameFetchError(f"first_frame_image could not be used: {too_many.message}")
    if image_format not in _IMAGE_FORMATS:
        raise FrameFetchError(
            f"first_frame_image could not be used: the image is {image_format or 'of an unknown format'}; "
            "use a JPEG or PNG."
        )
    try:
        check_first_frame(image_format, size, len(data), profile)
    except ApiError as exc:
        raise FrameFetchError(f"first_frame_image could not be used: {exc.message}") from None
    return image_format, size
