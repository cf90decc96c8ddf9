"""The rotating log file and the secret scrubbing on every record."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_studio.services.logging_setup import (
    LOG_FILE_NAME,
    register_secret,
    setup_logging,
    shutdown_logging,
)
from kling_studio.services.paths import app_paths
from kling_studio.services.secrets import ENV_VAR, set_api_key

KEY = "sk-LeakCanary-7f3a9c2e51d04b8e"
log = logging.getLogger("kling_studio.test_logging")


@pytest.fixture(autouse=True)
def _close_handlers() -> Iterator[None]:
    yield
    shutdown_logging()


def everything_written(log_dir: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(log_dir.glob(LOG_FILE_NAME + "*")))


def test_logs_go_to_the_app_log_folder_by_default() -> None:
    path = setup_logging()
    log.info("hello from the test")
    assert path == app_paths().log_dir / LOG_FILE_NAME
    assert "hello from the test" in everything_written(path.parent)


def test_the_key_from_the_environment_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, KEY)
    setup_logging(tmp_path, logging.DEBUG)
    log.debug("key is %s", KEY)
    log.info(f"inline {KEY} and url-quoted {KEY.replace('-', '%2D')}")
    log.warning("headers: %r", {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    try:
        raise RuntimeError(f"server rejected {KEY}")
    except RuntimeError:
        log.exception("submit failed")
    text = everything_written(tmp_path)
    assert KEY not in text
    assert "[redacted]" in text
    assert "submit failed" in text and "RuntimeError" in text  # the record itself survives


def test_the_key_from_the_keyring_is_never_written(tmp_path: Path) -> None:
    set_api_key(KEY)
    setup_logging(tmp_path)
    log.error("oops %s", KEY)
    assert KEY not in everything_written(tmp_path)


def test_tokens_and_headers_are_redacted_even_for_unknown_keys(tmp_path: Path) -> None:
    setup_logging(tmp_path)
    other = "zz-OtherToken-1234567890"
    log.info("Authorization: Bearer %s", other)
    log.info("authorization=%s", other)
    log.info('{"api_key": "%s"}', other)
    log.info("KLING_STUDIO_API_KEY=%s", other)
    log.info("Proxy-Authorization: Basic %s", other)
    text = everything_written(tmp_path)
    assert other not in text
    assert text.count("[redacted]") == 5


def test_a_key_set_after_start_up_is_redacted_too(tmp_path: Path) -> None:
    setup_logging(tmp_path)
    later = "sk-EnteredInTheDialog-99"
    register_secret(later)
    log.info("the user typed %s", later)
    assert later not in everything_written(tmp_path)


def test_the_log_rotates_and_keeps_a_bounded_number_of_files(tmp_path: Path) -> None:
    setup_logging(tmp_path, max_bytes=2_000, backup_count=3)
    for i in range(200):
        log.info("line %04d %s", i, "x" * 60)
    files = sorted(tmp_path.glob(LOG_FILE_NAME + "*"))
    assert [p.name for p in files] == [LOG_FILE_NAME, *(f"{LOG_FILE_NAME}.{n}" for n in (1, 2, 3))]
    assert all(p.stat().st_size <= 2_000 for p in files)
    assert "line 0199" in (tmp_path / LOG_FILE_NAME).read_text(encoding="utf-8")


def test_calling_setup_again_does_not_duplicate_lines(tmp_path: Path) -> None:
    setup_logging(tmp_path)
    setup_logging(tmp_path)
    log.info("only once")
    assert everything_written(tmp_path).count("only once") == 1


def test_a_broken_format_string_is_still_logged_without_raising(tmp_path: Path) -> None:
    setup_logging(tmp_path)
    log.info("two args %s %s", KEY)
    text = everything_written(tmp_path)
    assert "unformattable" in text
