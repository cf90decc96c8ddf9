"""The fault SPEC grammar."""

from __future__ import annotations

import pytest

from kling_studio.localapi.faults import FaultSpec, FaultSpecError


def test_example_spec_parses_every_item() -> None:
    spec = FaultSpec.parse("429=2@submit,500=0.2@status,reset=1@download,truncate=1,fail=0.1,seed=7")
    assert [(r.kind, r.route, r.count, r.probability) for r in spec.rules] == [
        ("429", "submit", 2, None),
        ("500", "status", None, 0.2),
        ("reset", "download", 1, None),
        ("truncate", None, 1, None),
        ("fail", None, None, 0.1),
    ]
    assert spec.seed == 7
    assert FaultSpec.parse(str(spec)).rules == spec.rules


def test_counts_apply_to_the_next_n_matching_requests_only() -> None:
    spec = FaultSpec.parse("502=2@status")
    assert spec.take(("502",), "submit") is None
    assert [spec.fires("502", "status") for _ in range(3)] == [True, True, False]


def test_probabilities_follow_the_seed() -> None:
    spec_a, spec_b = FaultSpec.parse("500=0.5,seed=3"), FaultSpec.parse("500=0.5,seed=3")
    assert [spec_a.fires("500", "status") for _ in range(40)] == [spec_b.fires("500", "status") for _ in range(40)]
    hits = sum(spec_a.fires("500", "status") for _ in range(400))
    assert 120 < hits < 280


def test_defaults_per_kind() -> None:
    spec = FaultSpec.parse("truncate,slow=0.25@status,expire,object,retry_after=2.5")
    truncate, slow, expire, obj = spec.rules
    assert obj.count is None
    assert truncate.routes() == ("download",)
    assert slow.seconds == 0.25 and spec.delay("status") == 0.25 and spec.delay("status") == 0.25
    assert spec.delay("submit") == 0
    assert expire.seconds == 1.0 and spec.link_lifetime() == 1.0
    assert all(spec.fires("object", "submit") for _ in range(5))
    assert spec.retry_after == 2.5


@pytest.mark.parametrize(
    "text",
    ["teapot", "500@nowhere", "fail@status", "429=abc", "500=1.5", "seed=x", "retry_after=-1"],
)
def test_bad_specs_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(FaultSpecError, match=r"\S"):
        FaultSpec.parse(text)
