"""Moved to ``tests/support/dbdump.py``: this re-export stays only until the benchmarks
import from there (they are being rewritten; see the applayer report)."""

from tests.support.dbdump import *  # noqa: F403
