"""Logging to a rotating file in the platform's log folder, with secrets scrubbed from every record.

The API key must never reach a log. Code is written not to log it, and this module is the
second line: a filter on our handlers rewrites each record before it is formatted, replacing
the configured key (from the environment or the keyring, plus any registered later) and anything
shaped like a Bearer token, an Authorization header or an ``api_key=`` pair. The scrubbing is
``services.redact``, the same one the store, sidecars and CLI output use. It also runs in the
log-record factory, so handlers that were added before ours see clean records too.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kling_studio.services.paths import app_paths
from kling_studio.services.redact import MIN_SECRET_CHARS, REDACTED, Redactor, default_redactor

LOG_FILE_NAME = "kling-studio.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
__all__ = [
    "LOG_FILE_NAME",
    "MIN_SECRET_CHARS",
    "REDACTED",
    "SecretRedactingFilter",
    "redacting_filter",
    "register_secret",
    "setup_logging",
    "shutdown_logging",
]


class SecretRedactingFilter(logging.Filter):
    """Rewrites a record's message (and exception text) with secrets replaced; never drops a record.

    The scrubbing itself is ``services.redact`` (one scrubber for logs, store, sidecars and output);
    the process-wide filter shares its secrets, a filter made with ``secrets`` has its own.
    """

    def __init__(self, secrets: Iterable[str] = (), *, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor if redactor is not None else Redactor(secrets)

    def add_secret(self, secret: str | None) -> None:
        self._redactor.add_secret(secret)

    def redact(self, text: str) -> str:
        return self._redactor.redact(text, log=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we can, without the arguments
            message = f"{record.msg!r} (unformattable arguments)"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_filter = SecretRedactingFilter(redactor=default_redactor())
_handlers: list[logging.Handler] = []
_previous_factory: Callable[..., logging.LogRecord] | None = None


def _redacting_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Scrubbing at creation covers every handler, including ones added before ours.
    assert _previous_factory is not None
    record = _previous_factory(*args, **kwargs)
    _filter.filter(record)
    return record


def redacting_filter() -> SecretRedactingFilter:
    """The process-wide filter (attach it to any extra handler you add)."""
    return _filter


def register_secret(secret: str | None) -> None:
    """Redact this value from every later record, store write and output (a newly entered key)."""
    _filter.add_secret(secret)


def _configured_key(ask_keyring: bool) -> str | None:
    from kling_studio.services.secrets import ENV_VAR, get_api_key

    if not ask_keyring:  # the keyring's key is registered by ``get_api_key`` when it is read
        return os.environ.get(ENV_VAR, "").strip() or None
    try:
        return get_api_key()
    except Exception:  # logging must come up even when the keyring is broken
        return None


def setup_logging(
    log_dir: Path | None = None,
    level: int = logging.INFO,
    *,
    console: bool = False,
    max_bytes: int = MAX_BYTES,
    backup_count: int = BACKUP_COUNT,
    ask_keyring: bool = True,
) -> Path:
    """Log to ``<log_dir>/kling-studio.log`` (rotating, ``max_bytes`` × ``backup_count``).

    ``log_dir`` defaults to ``app_paths().log_dir``. Calling it again replaces the handlers
    it installed before. Returns the log file's path. ``ask_keyring=False`` (the window's
    start-up) registers only the environment's key now: the keyring's key cannot be in any
    record before ``get_api_key`` reads it, and that registers it.
    """
    directory = Path(log_dir) if log_dir is not None else app_paths().log_dir
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_FILE_NAME
    shutdown_logging()
    register_secret(_configured_key(ask_keyring))
    global _previous_factory
    if _previous_factory is None:
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_redacting_record_factory)

    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8", delay=True
    )
    handlers: list[logging.Handler] = [file_handler]
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.setLevel(level)
        handler.addFilter(_filter)
        root.addHandler(handler)
        _handlers.append(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    logging.getLogger("kling_studio").setLevel(level)
    # Pillow's DEBUG lines (one per PNG chunk) would drown everything else.
    logging.getLogger("PIL").setLevel(max(level, logging.INFO))
    logging.captureWarnings(True)
    return path


def shutdown_logging() -> None:
    """Remove and close the handlers ``setup_logging`` installed (tests, and at exit)."""
    global _previous_factory
    if _previous_factory is not None and logging.getLogRecordFactory() is _redacting_record_factory:
        logging.setLogRecordFactory(_previous_factory)
        _previous_factory = None
    root = logging.getLogger()
    while _handlers:
        handler = _handlers.pop()
        root.removeHandler(handler)
        handler.close()
