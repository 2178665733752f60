"""Fault injection for the sandbox: which faults, how often, from a seeded RNG.

Spec grammar (the ``--faults`` option): comma-separated ``key=value`` items, where a bare item
continues the previous key's list::

    rate=0.05,kinds=500:2,1,613,timeout,malformed,dup-page,empty-page,seed=7,stall=35
    rate=1,kinds=drip,drip=5          rate=0.2,kinds=huge-body,huge=300

Kinds:
- ``500:2`` (or ``2``): HTTP 500, code 2, ``is_transient: true``; nothing happens.
- ``1``: HTTP 500, code 1 "Please reduce the amount of data…" (GET only); nothing happens.
- ``613`` / ``80006`` / ``80002`` / ``4`` / ``80001`` / ``17`` / ``32``: throttling, HTTP 400,
  usage header with ``estimated_time_to_regain_access``; nothing happens.
- ``timeout``: the request IS processed (writes change state), then the response is lost: the
  transport raises ``httpx.ReadTimeout``; the server stalls ``stall`` seconds before answering.
- ``malformed``: the request IS processed, the JSON body is cut in half.
- ``dup-page``: a later page of a list repeats the previous page's last item at its top.
- ``empty-page``: a list answers ``{"data": []}`` with a ``next`` link to the same page.
- ``heavy``: a heavy list read (``limit`` × nested limit above the spec's ``heavy``, default
  1000) is processed and then times out like ``timeout``: what a busy Page's big field
  expansions do besides answering code 1. Lighter requests never draw it.

Nonsense from the API (issue 12; ``nonsense.py`` builds the bodies):

- ``html``: the request IS processed, then a proxy answers HTTP 502 with an HTML page and none
  of Graph's headers (a write may or may not have happened, as behind a real proxy).
- ``error-200``: HTTP 200 whose body is a Graph error envelope (code 2); nothing happens.
- ``wrong-types`` (GET): listed items get a null ``id``, a number for a string, an object for
  a list (in turn); a node gets a null ``id``.
- ``big-body`` (GET): the answer grown to ``big`` MB (default 10) inside its first text field.
- ``huge-body`` (GET): a valid JSON list of ``huge`` MB (default 300), streamed in chunks: the
  sandbox never holds it in memory.
- ``foreign-next`` (GET lists): ``paging.next`` points at ``foreign`` (default
  ``https://graph.facebook.com.evil.example``), same path and query.
- ``endless`` (GET lists): ``paging.next`` leads to the same data with a fresh cursor, for ever
  (once a chain started, its cursors keep it going whatever ``rate`` says).
- ``drip``: the request IS processed, then the body goes out one byte every ``drip`` seconds
  (default 5): each read is quick enough for a per-read timeout, the whole never ends in time.

``handler`` asks ``FaultSpec.pick`` once per request (after auth) with the kinds that fit it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80006})
NONSENSE = frozenset(
    {"html", "error-200", "wrong-types", "big-body", "huge-body", "foreign-next", "endless", "drip"}
)
KINDS = frozenset(
    {"500:2", "1", "timeout", "malformed", "dup-page", "empty-page", "heavy"}
    | NONSENSE
    | {str(c) for c in THROTTLE_CODES}
)
LIST_ONLY = frozenset({"dup-page", "empty-page", "heavy", "foreign-next", "endless"})
GET_ONLY = frozenset(
    {"1", "dup-page", "empty-page", "heavy", "wrong-types", "big-body", "huge-body"}
    | {"foreign-next", "endless"}
)
DEFAULT_FOREIGN = "https://graph.facebook.com.evil.example"


@dataclass
class FaultSpec:
    """Parsed fault settings; ``pick`` draws from a private seeded RNG (deterministic)."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ()
    seed: int = 0
    stall: float = 35.0
    """Seconds the real server stalls on ``timeout`` (longer than a client's timeout)."""
    heavy: int = 1000
    """``limit`` × nested limit above which a list read can draw the ``heavy`` fault."""
    drip: float = 5.0
    """Seconds between two bytes of a ``drip`` answer."""
    big: float = 10.0
    """Megabytes of a ``big-body`` answer."""
    huge: float = 300.0
    """Megabytes of a ``huge-body`` answer (streamed)."""
    foreign: str = DEFAULT_FOREIGN
    """Where a ``foreign-next`` link points (scheme://host[:port])."""
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.kinds = tuple("500:2" if k in ("2", "500") else k for k in self.kinds)
        for kind in self.kinds:
            if kind not in KINDS:
                raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        if self.drip < 0 or self.big <= 0 or self.huge <= 0:
            raise ValueError("drip, big and huge must be positive")
        self._rng = random.Random(f"faults:{self.seed}")

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        """Parse ``rate=0.05,kinds=500:2,1,613,timeout`` (see the module docstring)."""
        values: dict[str, list[str]] = {}
        current: str | None = None
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            if "=" in item:
                current, _, value = item.partition("=")
                current = current.strip()
                values.setdefault(current, []).append(value.strip())
            elif current == "kinds":
                values[current].append(item)
            else:
                raise ValueError(f"fault spec item {item!r} has no key (expected key=value)")
        numbers = {"rate", "seed", "stall", "heavy", "drip", "big", "huge"}
        unknown = set(values) - numbers - {"kinds", "foreign"}
        if unknown:
            raise ValueError(f"unknown fault spec key(s): {', '.join(sorted(unknown))}")
        try:
            rate = float(values.get("rate", ["0"])[-1])
            seed = int(values.get("seed", ["0"])[-1])
            stall = float(values.get("stall", ["35"])[-1])
            heavy = int(values.get("heavy", ["1000"])[-1])
            drip = float(values.get("drip", ["5"])[-1])
            big = float(values.get("big", ["10"])[-1])
            huge = float(values.get("huge", ["300"])[-1])
        except ValueError as exc:
            raise ValueError(f"bad number in fault spec {spec!r}") from exc
        foreign = values.get("foreign", [DEFAULT_FOREIGN])[-1]
        if not foreign.startswith(("http://", "https://")):
            raise ValueError(f"foreign= must be an http(s) URL, got {foreign!r}")
        kinds = tuple(k for k in values.get("kinds", []) if k)
        if rate > 0 and not kinds:
            kinds = ("500:2",)
        return cls(
            rate=rate,
            kinds=kinds,
            seed=seed,
            stall=stall,
            heavy=heavy,
            drip=drip,
            big=big,
            huge=huge,
            foreign=foreign,
        )

    def pick(self, method: str, is_list: bool, cost: int = 0) -> str | None:
        """The fault to inject into this request, or None (``cost``: limit × nested limit)."""
        if self.rate <= 0 or not self.kinds:
            return None
        if self._rng.random() >= self.rate:
            return None
        fitting = [k for k in self.kinds if self._fits(k, method, is_list, cost)]
        if not fitting:
            return None
        return self._rng.choice(fitting)

    def _fits(self, kind: str, method: str, is_list: bool, cost: int) -> bool:
        if kind in LIST_ONLY and not is_list:
            return False
        if kind == "heavy" and cost <= self.heavy:
            return False
        return not (kind in GET_ONLY and method != "GET")


def throttle_codes(kinds: Iterable[str]) -> list[int]:
    """The throttling codes among ``kinds`` (for tests and docs)."""
    return [int(k) for k in kinds if k.isdigit() and int(k) in THROTTLE_CODES]
