"""The SQLite store: schema and migrations, cache upserts, thread queries, operator state.

Called by ``socialdesk.core`` services and the CLI. Never imports ``socialdesk.api``. Modules:
``db`` (open, transactions), ``cache`` (upserts), ``threads`` and ``query`` (reading), ``triage``
(status, tags, notes), ``watermarks`` (sync progress), ``state_io`` (export/import), ``lock``
(per-page sync lock), ``outbox`` and ``stats``.
"""

from socialdesk.store.db import open_db, transaction

__all__ = ["open_db", "transaction"]
