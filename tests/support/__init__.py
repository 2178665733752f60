"""Helpers shared by the test modules and the benchmarks (never collected as tests)."""
