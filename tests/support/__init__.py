"""Helpers shared by the test modules and the benchmarks (never collected as tests).

- ``sandbox``: :class:`SandboxEnv`, a demo sandbox wired into the environment, in-process
  (the CLI's context factory gets its transport) or served on loopback (for subprocesses);
- ``cli``: :func:`run`, the CLI invoked in-process with the command tree built once;
- ``demo``: ``socialdesk demo`` without its rate limit and pacing (in-process or a subprocess),
  for the demo tests whose subject is not pacing;
- ``builders``: domain objects and in-memory databases for the store tests;
- ``outbox_world``: a sandbox page, a synced database and a client, for outbox and ack tests;
- ``stats_script``: scripted thread histories for the stats tests;
- ``ack_harness``, ``sync_proc``, ``dbdump``: the kill harnesses and the database dump shared
  with the soak benchmarks;
- ``timeshift``: the pytest plugin that moves the wall clock;
- ``unicode_scan``: the whole code space and its categories, built once per process for the
  hostile-text tests;
- ``crowd_forkserver``: real socialdesk processes forked from one imported interpreter, for
  the crowds of the concurrency and storage tests;
- ``kill_events`` and the other ``*_proc``/``*_kill`` modules: the processes the kill tests
  stop at points they announce.
"""
