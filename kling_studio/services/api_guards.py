"""Checks that keep the API key and the user safe: where requests may go, what a header may hold.

Only https base URLs, except to this machine (the local server); keys and Idempotency-Keys are
visible ASCII; the key itself is wrapped so that no repr or log line can print it.
"""

from __future__ import annotations

import ipaddress
import logging

import httpx

MAX_IDEMPOTENCY_KEY = 191


def is_loopback(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> httpx.URL:
    """https only; plain http only to this machine (the local server)."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"The base URL {base_url!r} is not a valid URL ({exc}).") from None
    if not url.host:
        raise ValueError(f"The base URL {base_url!r} has no host name.")
    if url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host)):
        return url
    raise ValueError(
        f"The base URL {base_url!r} must start with https:// (plain http is allowed only for "
        "localhost / 127.0.0.1 / ::1)."
    )


def visible_ascii(text: str) -> bool:
    return all(0x21 <= ord(ch) <= 0x7E for ch in text)


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not visible_ascii(key):
        raise ValueError(f"An Idempotency-Key must be 1–{MAX_IDEMPOTENCY_KEY} visible ASCII characters.")
    return key


def clean_key(api_key: str | None) -> str | None:
    if api_key is None or not api_key.strip():
        return None
    key = api_key.strip()
    if not visible_ascii(key):
        # Never quote the key: the message may be shown or logged.
        raise ValueError("The API key contains spaces or characters that cannot be sent; paste it again.")
    return key


class Secret:
    """Holds the key so that no repr, vars() dump or debugger view prints it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


class RedactFilter(logging.Filter):
    """Last line of defence: a record that somehow holds the key is rewritten without it."""

    def __init__(self, secret: Secret) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        from kling_studio.services.redact import redact  # the one scrubber

        text = record.getMessage()
        cleaned = redact(text, extra=(self._secret.reveal(),))
        if cleaned != text:
            record.msg = cleaned
            record.args = None
        return True
