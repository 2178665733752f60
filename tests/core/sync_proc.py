"""Moved to ``tests/support/sync_proc.py``: this re-export stays only until the benchmarks
import from there (they are being rewritten; see the applayer report)."""

from tests.support.sync_proc import *  # noqa: F403
