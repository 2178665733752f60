"""socialdesk's benchmark suite: ``python -m benchmarks`` runs every module and prints one table.

Each benchmark module exposes ``run(quick: bool) -> list[Figure]`` (:mod:`benchmarks.figures`);
the runner (``benchmarks/__main__.py``) collects them. Benchmarks are never part of the test
suite: tests check behaviour, benchmarks print figures.
"""
