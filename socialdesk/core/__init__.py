"""The services the CLI and the inbox call: sync, windows, outbox, templates, ack, stats, session.

Core joins ``api`` (fetch) and ``store`` (save); it never imports the CLI, the inbox, Typer, Rich
or Textual, and takes a clock (or a ``now``) from its caller so tests control time.
"""
