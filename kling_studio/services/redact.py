"""The one secret scrubber: every boundary where text leaves memory passes through here.

The store (every column it writes), the sidecar JSON, the log, the CLI's stdout/stderr and the
error dialogs call ``redact``/``redact_value``. They remove every registered secret (the key in
use: ``secrets.get_api_key`` and ``KlingClient`` register it, the settings dialog registers a
newly typed one) in its plain and URL-quoted forms, and anything shaped like a bearer token or an
``sk-`` key, because a hostile or buggy server may echo the ``Authorization`` header back in any
field of any answer. The log additionally scrubs header and ``key=value`` shapes, which are too
broad for user text such as prompts ("a token of love").
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 4  # shorter "secrets" would blank out ordinary words

# Anywhere (store, sidecar, CLI, dialogs): shapes that are tokens, not prose or paths. A bearer
# token has 12+ token characters and a digit ("a standard bearer marches" survives); an sk- key
# has 20+ ("sk-proj-…", "sk-ant-…"; a folder called "sk-videos" survives).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?i)\b(bearer)(\s+|%20|\+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}"),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), REDACTED),
)
# Log lines only: header and key=value shapes, whatever the value looks like.
# Not a value already replaced: "Bearer [redacted]" stays as it is.
_LOG_TOKEN = r"(?!\[redacted\])[^\s\"',;}\])]+"
_LOG_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)" + _LOG_TOKEN), r"\1\2" + REDACTED),
    (
        re.compile(r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?!(?:bearer|basic|token)\s)" + _LOG_TOKEN),
        r"\1" + REDACTED,
    ),
    (
        re.compile(r"(?i)(\b(?:kling_studio_)?(?:x-)?api[_-]?key[\"']?\s*[:=]\s*[\"']?)" + _LOG_TOKEN),
        r"\1" + REDACTED,
    ),
)


def _forms(secret: str | None) -> set[str]:
    if not secret or len(secret.strip()) < MIN_SECRET_CHARS:
        return set()
    secret = secret.strip()
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}


class Redactor:
    """A set of secrets and the token shapes; thread-safe (the log is written from any thread)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str | None) -> None:
        forms = _forms(secret)
        if not forms:
            return
        with self._lock:
            # Longest first, so a key that contains another registered value is removed whole.
            self._secrets = tuple(sorted(set(self._secrets) | forms, key=len, reverse=True))

    def redact(self, text: str, *, extra: Iterable[str | None] = (), log: bool = False) -> str:
        secrets = self._secrets
        more = [f for s in extra for f in _forms(s)]
        for secret in sorted(more, key=len, reverse=True) + list(secrets):
            if secret in text:
                text = text.replace(secret, REDACTED)
        if text.startswith("data:"):
            return text  # our own base64 image: no token shape can hide in it, and it is megabytes
        for pattern, replacement in _PATTERNS + (_LOG_PATTERNS if log else ()):
            text = pattern.sub(replacement, text)
        return text

    def redact_value(self, value: Any, *, extra: Iterable[str | None] = ()) -> Any:
        """The same structure with every string (keys too) redacted: dicts, lists, tuples."""
        extra = tuple(extra)
        if isinstance(value, str):
            return self.redact(value, extra=extra)
        if isinstance(value, dict):
            return {
                (self.redact(k, extra=extra) if isinstance(k, str) else k): self.redact_value(v, extra=extra)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            items = [self.redact_value(v, extra=extra) for v in value]
            return tuple(items) if isinstance(value, tuple) else items
        return value


_default = Redactor()


def register_secret(secret: str | None) -> None:
    """Scrub this value everywhere from now on (the key in use, a key just typed)."""
    _default.add_secret(secret)


def redact(text: str, *, extra: Iterable[str | None] = ()) -> str:
    """``text`` without registered secrets, ``extra`` secrets and bearer/``sk-`` tokens."""
    return _default.redact(text, extra=extra)


def redact_log(text: str) -> str:
    """``redact`` plus the header and ``key=value`` shapes (log lines only)."""
    return _default.redact(text, log=True)


def redact_value(value: Any, *, extra: Iterable[str | None] = ()) -> Any:
    return _default.redact_value(value, extra=extra)


def default_redactor() -> Redactor:
    return _default
