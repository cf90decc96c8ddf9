"""The one scrubber: keys and token shapes go, prose and paths stay."""

from __future__ import annotations

from kling_studio.services.redact import REDACTED, Redactor, redact, redact_log, redact_value, register_secret


def test_a_registered_key_goes_in_every_form_and_structure() -> None:
    key = "k3y-Registered-For-Test-0042"
    register_secret(key)
    doc = {"error": {"message": f"bad {key}", key: [f"Bearer {key}", ("x", "url?k=" + key)]}, "n": 3}
    cleaned = redact_value(doc)
    assert key not in repr(cleaned)
    assert cleaned["n"] == 3 and isinstance(cleaned["error"][REDACTED][1], tuple)


def test_token_shapes_go_even_when_the_key_is_unknown() -> None:
    assert redact("Authorization: Bearer abcDEF123456789xyz") == f"Authorization: Bearer {REDACTED}"
    assert redact("echo=Bearer%20abcDEF123456789xyz") == f"echo=Bearer%20{REDACTED}"
    assert redact("key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX1 end") == f"key {REDACTED} end"
    assert redact("x", extra=["x-secret-value"]) == "x"
    assert redact("say x-secret-value", extra=["x-secret-value"]) == f"say {REDACTED}"


def test_prose_and_paths_survive_outside_the_log() -> None:
    for text in (
        "a standard bearer marches into the rain",
        "a token of love on the table",
        "/home/ana/sk-videos/take.mp4",
        "data:image/png;base64,QmVhcmVyIGFiY2RlZjEyMzQ1Njc4OTA=",
    ):
        assert redact(text) == text
    # The log is stricter: header shapes go whatever the value looks like.
    assert redact_log("token abc") == f"token {REDACTED}"
    assert redact_log("Authorization: Bearer sk-x-1") == f"Authorization: Bearer {REDACTED}"


def test_a_private_redactor_keeps_its_own_secrets() -> None:
    mine = Redactor(["only-in-this-one-9"])
    assert mine.redact("only-in-this-one-9") == REDACTED
    assert redact("only-in-this-one-9") == "only-in-this-one-9"
