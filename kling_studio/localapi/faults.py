"""Fault injection for the local server: the ways the real service and the network misbehave.

SPEC grammar (``--faults SPEC`` or ``LocalServer.set_faults(SPEC)``): comma-separated items
``kind[=value][@route]``, plus the settings ``seed=N`` and ``retry_after=S``.

kind
    ``429``       answer 429 rate_limit_error with ``Retry-After`` (``retry_after=S``, default 1 s)
    ``500``/``502``/``503``  answer that server error with the error envelope
    ``reset``     abort the TCP connection without any answer (the request is still processed,
                  so a submit creates its task: the "outcome unknown" case)
    ``slow``      delay the answer by ``value`` seconds (default 1) — every matching request
    ``truncate``  send the headers with the full Content-Length, then close after half the body
    ``fail``      the created task ends ``failed`` with an error (submit only)
    ``object``    answer a submit with ``data`` as an object instead of a list (submit only)
    ``expire``    result links of new tasks live ``value`` seconds (default 1); afterwards
                  ``expires_at`` is in the past and the file route answers 403 "expired" (submit only)
value
    an integer N: the next N matching requests; a float in (0, 1]: the probability per matching
    request (seeded RNG: ``seed=N``, default 0). Without a value: the next request, except
    ``object`` (every submit), ``slow`` (1 s) and ``expire`` (1 s).
route
    ``submit``, ``status``, ``upload``, ``download`` or ``schema``. Default: every route for
    429/500/502/503/reset/slow, ``download`` for truncate, ``submit`` for fail/object/expire.

Example: ``429=2@submit,500=0.2@status,reset=1@download,truncate=1,fail=0.1,seed=7``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

ROUTES = ("submit", "status", "upload", "download", "schema")
HTTP_ERROR_KINDS = ("429", "500", "502", "503")
CONNECTION_KINDS = (*HTTP_ERROR_KINDS, "reset")
SUBMIT_ONLY_KINDS = ("fail", "object", "expire")
KINDS = (*CONNECTION_KINDS, "slow", "truncate", *SUBMIT_ONLY_KINDS)
_SECONDS_KINDS = ("slow", "expire")


class FaultSpecError(ValueError):
    """A SPEC string that does not follow the grammar."""


@dataclass
class FaultRule:
    """One item of a SPEC. ``remaining`` counts down for count rules; ``None`` means no count."""

    kind: str
    route: str | None = None
    count: int | None = None
    probability: float | None = None
    seconds: float | None = None
    remaining: int | None = None

    def __post_init__(self) -> None:
        if self.remaining is None:
            self.remaining = self.count

    def routes(self) -> tuple[str, ...]:
        if self.route is not None:
            return (self.route,)
        if self.kind == "truncate":
            return ("download",)
        if self.kind in SUBMIT_ONLY_KINDS:
            return ("submit",)
        return ROUTES

    def __str__(self) -> str:
        text = self.kind
        if self.seconds is not None:
            text += f"={self.seconds:g}"
        elif self.probability is not None:
            text += f"={self.probability!r}"  # keeps "1.0" apart from the count "1"
        elif self.count is not None:
            text += f"={self.count}"
        if self.route is not None:
            text += f"@{self.route}"
        return text


@dataclass
class FaultSpec:
    """The faults in force, with their runtime counters. Safe to share between threads."""

    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0
    retry_after: float | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """Parse a SPEC string (see the module docstring); raises FaultSpecError."""
        rules: list[FaultRule] = []
        seed = 0
        retry_after: float | None = None
        for raw in (text or "").split(","):
            item = raw.strip()
            if not item:
                continue
            head, _, route = item.partition("@")
            kind, has_value, value = (part.strip() for part in head.partition("="))
            route = route.strip()
            if kind == "seed":
                seed = _parse_int(value, item)
                continue
            if kind == "retry_after":
                retry_after = _parse_seconds(value, item)
                continue
            rules.append(_parse_rule(kind, value if has_value else None, route or None, item))
        return cls(rules, seed, retry_after)

    def __str__(self) -> str:
        items = [str(rule) for rule in self.rules]
        if self.seed:
            items.append(f"seed={self.seed}")
        if self.retry_after is not None:
            items.append(f"retry_after={self.retry_after:g}")
        return ",".join(items)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _fires(self, rule: FaultRule) -> bool:
        if rule.remaining is not None:
            if rule.remaining <= 0:
                return False
            rule.remaining -= 1
            return True
        if rule.probability is not None:
            return self._rng.random() < rule.probability
        return True

    def take(self, kinds: tuple[str, ...], route: str) -> FaultRule | None:
        """The first rule of these kinds that fires for a request to ``route`` (uses it up)."""
        with self._lock:
            for rule in self.rules:
                if rule.kind in kinds and route in rule.routes() and self._fires(rule):
                    return rule
        return None

    def fires(self, kind: str, route: str) -> bool:
        return self.take((kind,), route) is not None

    def delay(self, route: str) -> float:
        """Seconds to hold an answer to ``route`` (the sum of the matching ``slow`` rules)."""
        with self._lock:
            return sum(
                rule.seconds or 0.0
                for rule in self.rules
                if rule.kind == "slow" and route in rule.routes() and self._fires(rule)
            )

    def link_lifetime(self) -> float | None:
        """The result-link lifetime for a new task when an ``expire`` rule is in force."""
        rule = self.take(("expire",), "submit")
        return None if rule is None else (rule.seconds if rule.seconds is not None else 1.0)


def _parse_int(value: str, item: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise FaultSpecError(f"{item!r}: expected a whole number after '='") from None


def _parse_seconds(value: str, item: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise FaultSpecError(f"{item!r}: expected a number of seconds after '='") from None
    if seconds < 0:
        raise FaultSpecError(f"{item!r}: seconds cannot be negative")
    return seconds


def _parse_rule(kind: str, value: str | None, route: str | None, item: str) -> FaultRule:
    if kind not in KINDS:
        raise FaultSpecError(f"{item!r}: unknown fault {kind!r}; expected one of {', '.join(KINDS)}, seed, retry_after")
    if route is not None and route not in ROUTES:
        raise FaultSpecError(f"{item!r}: unknown route {route!r}; expected one of {', '.join(ROUTES)}")
    if kind in SUBMIT_ONLY_KINDS and route not in (None, "submit"):
        raise FaultSpecError(f"{item!r}: {kind} applies to submit only")
    if kind in _SECONDS_KINDS:
        return FaultRule(kind, route, seconds=1.0 if value is None else _parse_seconds(value, item))
    if value is None:
        # ``object`` is a mode (every submit); the other kinds hit the next matching request.
        return FaultRule(kind, route) if kind == "object" else FaultRule(kind, route, count=1)
    if value.isdigit():
        return FaultRule(kind, route, count=int(value))
    try:
        probability = float(value)
    except ValueError:
        raise FaultSpecError(f"{item!r}: expected a count (N) or a probability (0 < p ≤ 1) after '='") from None
    if not 0 < probability <= 1:
        raise FaultSpecError(f"{item!r}: a probability must be in (0, 1]")
    return FaultRule(kind, route, probability=probability)
