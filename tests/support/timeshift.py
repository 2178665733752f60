"""A pytest plugin that moves the wall clock: ``-p tests.support.timeshift``.

``SOCIALDESK_TEST_SHIFT_DAYS=N`` makes ``datetime.now()``/``today()``/``utcnow()``,
``date.today()`` and ``time.time()`` report N days later than the real time, for every module
imported after the plugin (pytest loads ``-p`` plugins before it collects any test, so that is
all of socialdesk and the tests). ``tests/test_time_travel.py`` runs the suite's time-sensitive
modules under it: a test that passes today and would fail next year fails here today.
"""

from __future__ import annotations

import datetime as _dt
import os
import time as _time
from typing import Any

SHIFT = _dt.timedelta(days=float(os.environ.get("SOCIALDESK_TEST_SHIFT_DAYS", "0") or 0))
_real_time = _time.time
_RealDatetime = _dt.datetime
_RealDate = _dt.date


class _ShiftedDatetime(_RealDatetime):
    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> Any:
        return _RealDatetime.now(tz) + SHIFT

    @classmethod
    def utcnow(cls) -> Any:
        return _RealDatetime.now(_dt.UTC).replace(tzinfo=None) + SHIFT

    @classmethod
    def today(cls) -> Any:
        return _RealDatetime.now() + SHIFT


class _ShiftedDate(_RealDate):
    @classmethod
    def today(cls) -> Any:
        return (_RealDatetime.now() + SHIFT).date()


def _shifted_time() -> float:
    return _real_time() + SHIFT.total_seconds()


if SHIFT:
    _dt.datetime = _ShiftedDatetime  # type: ignore[misc]
    _dt.date = _ShiftedDate  # type: ignore[misc]
    _time.time = _shifted_time


def pytest_terminal_summary(terminalreporter: Any) -> None:
    now = _dt.datetime.now()
    terminalreporter.write_line(
        f"timeshift: wall clock moved {SHIFT.days} days ahead, now {now:%Y-%m-%d}"
    )
