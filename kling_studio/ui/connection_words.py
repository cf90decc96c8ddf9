"""Why a connection test failed, in words: host not found, refused, key rejected, timed out.

The API client already turns every failure into a typed error; this looks at that error (and
the OS error under it) to name the one thing the person should fix.
"""

from __future__ import annotations

import socket

import httpx

from kling_studio.services.api_errors import AuthError, KlingAPIError, PermissionDeniedError


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def failure_words(exc: BaseException, base_url: str, timeout: float) -> str:
    """One sentence (and the next step) for a failed Test connection."""
    try:
        url = httpx.URL(base_url)
        host, port = url.host or base_url, url.port or (443 if url.scheme == "https" else 80)
    except (httpx.InvalidURL, TypeError):
        host, port = base_url, None
    chain = _chain(exc)
    status = getattr(exc, "status", None)
    if isinstance(exc, AuthError) or status == 401:
        return "Key rejected: the service answered 401 (not authorised). Check the key in the APIMart console and paste it again."
    if isinstance(exc, PermissionDeniedError) or status == 403:
        return "Key not allowed: the service answered 403. Check that your account may use Kling 3.0 Turbo."
    if any(isinstance(e, socket.gaierror) for e in chain):
        return f"Host not found: “{host}” does not exist or cannot be looked up. Check the base URL (and your network)."
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        where = f"{host}:{port}" if port else host
        return f"Connection refused: nothing answers at {where}. Check the base URL and port, or start the server."
    if isinstance(exc, TimeoutError) or any(isinstance(e, httpx.TimeoutException) for e in chain):
        return f"Timed out: {host} did not answer within {timeout:g} s. Check the base URL, a proxy or firewall, or try later."
    if isinstance(exc, ValueError) and not isinstance(exc, KlingAPIError):
        return f"The base URL is not usable: {exc}"
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"Connection failed: {message}"
