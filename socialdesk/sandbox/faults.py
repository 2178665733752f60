"""Fault injection for the sandbox: which faults, how often, from a seeded RNG.

Spec grammar (the ``--faults`` option): comma-separated ``key=value`` items, where a bare item
continues the previous key's list::

    rate=0.05,kinds=500:2,1,613,timeout,malformed,dup-page,empty-page,seed=7,stall=35

Kinds:
- ``500:2`` (or ``2``): HTTP 500, code 2, ``is_transient: true``; nothing happens.
- ``1``: HTTP 500, code 1 "Please reduce the amount of data…" (GET only); nothing happens.
- ``613`` / ``80006`` / ``4`` / ``80001`` / ``17`` / ``32``: throttling, HTTP 400, usage header
  with ``estimated_time_to_regain_access``; nothing happens.
- ``timeout``: the request IS processed (writes change state), then the response is lost: the
  transport raises ``httpx.ReadTimeout``; the server stalls ``stall`` seconds before answering.
- ``malformed``: the request IS processed, the JSON body is cut in half.
- ``dup-page``: a later page of a list repeats the previous page's last item at its top.
- ``empty-page``: a list answers ``{"data": []}`` with a ``next`` link to the same page.
- ``heavy``: a heavy list read (``limit`` × nested limit above the spec's ``heavy``, default
  1000) is processed and then times out like ``timeout``: what a busy Page's big field
  expansions do besides answering code 1. Lighter requests never draw it.

``handler`` asks ``FaultSpec.pick`` once per request (after auth) with the kinds that fit it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80006})
KINDS = frozenset(
    {"500:2", "1", "timeout", "malformed", "dup-page", "empty-page", "heavy"}
    | {str(c) for c in THROTTLE_CODES}
)
LIST_ONLY = frozenset({"dup-page", "empty-page", "heavy"})
GET_ONLY = frozenset({"1", "dup-page", "empty-page", "heavy"})


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
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.kinds = tuple("500:2" if k in ("2", "500") else k for k in self.kinds)
        for kind in self.kinds:
            if kind not in KINDS:
                raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
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
        unknown = set(values) - {"rate", "kinds", "seed", "stall", "heavy"}
        if unknown:
            raise ValueError(f"unknown fault spec key(s): {', '.join(sorted(unknown))}")
        try:
            rate = float(values.get("rate", ["0"])[-1])
            seed = int(values.get("seed", ["0"])[-1])
            stall = float(values.get("stall", ["35"])[-1])
            heavy = int(values.get("heavy", ["1000"])[-1])
        except ValueError as exc:
            raise ValueError(f"bad number in fault spec {spec!r}") from exc
        kinds = tuple(k for k in values.get("kinds", []) if k)
        if rate > 0 and not kinds:
            kinds = ("500:2",)
        return cls(rate=rate, kinds=kinds, seed=seed, stall=stall, heavy=heavy)

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
