"""The API key: from ``KLING_STUDIO_API_KEY`` or the system keyring (service ``kling-studio``).

Never from a project file, never written to the store, settings or logs: every key this module
hands out or stores is registered with ``services.redact``, which scrubs it at every boundary.

``keyring`` is imported on first use: finding its backend costs ~70 ms, so the window's first
paint goes by a hint (``assume_key_until_asked``) and the keyring is asked right after it.
"""

from __future__ import annotations

import contextlib
import logging
import os

from kling_studio.services.redact import register_secret

ENV_VAR = "KLING_STUDIO_API_KEY"
KEYRING_SERVICE = "kling-studio"
KEYRING_USER = "api-key"

log = logging.getLogger("kling_studio.secrets")

# Start-up's guess whether a key is configured, used by ``key_configured`` until the keyring is
# asked (None: no guess, ask). Never the key itself.
_assumed: bool | None = None


def assume_key_until_asked(present: bool | None) -> None:
    """Before the first paint: let ``key_configured`` answer ``present`` without the keyring,
    until ``get_api_key`` (or a store/delete) next asks it."""
    global _assumed
    _assumed = present


def key_configured() -> bool:
    """Whether a key is configured (the environment's, else the keyring's; see above)."""
    if os.environ.get(ENV_VAR, "").strip():
        return True
    if _assumed is not None:
        return _assumed
    return get_api_key() is not None


def get_api_key() -> str | None:
    """The key from the environment first, then the keyring; None when neither has one."""
    global _assumed
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        register_secret(value)
        return value
    import keyring
    from keyring.errors import KeyringError

    _assumed = None
    try:
        stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except (KeyringError, RuntimeError) as exc:  # no usable backend on this desktop
        log.info("the system keyring is unavailable: %s", type(exc).__name__)
        return None
    key = stored.strip() or None if stored else None
    register_secret(key)
    return key


def key_source() -> str | None:
    """ "environment", "keyring" or None: where the key in use comes from (for the settings dialog)."""
    if os.environ.get(ENV_VAR, "").strip():
        return "environment"
    import keyring
    from keyring.errors import KeyringError

    try:
        return "keyring" if keyring.get_password(KEYRING_SERVICE, KEYRING_USER) else None
    except (KeyringError, RuntimeError):
        return None


def set_api_key(key: str) -> None:
    """Store the key in the keyring. Raises KeyringError when no keyring is usable."""
    import keyring

    assume_key_until_asked(None)
    register_secret(key)
    keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key.strip())


def delete_api_key() -> None:
    import keyring
    import keyring.errors

    assume_key_until_asked(None)
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)


def mask(key: str | None) -> str:
    """A safe display form: the last 4 characters at most."""
    if not key:
        return "(none)"
    return "•" * 8 + key[-4:] if len(key) > 8 else "•" * 8
