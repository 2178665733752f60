"""Moved to ``tests/support/ack_harness.py``: this re-export stays only until the benchmarks
import from there (they are being rewritten; see the applayer report)."""

from tests.support.ack_harness import *  # noqa: F403
