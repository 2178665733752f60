"""One command run's context: paths, config, clock, the database and Graph clients.

Created by every CLI command that touches the database or the API (and by each inbox worker):

    with Session.open() as session:
        page = session.page(page_ref)
        client = session.client(page)
        ...

The database opens lazily, so commands that only talk to the API never create one, and
``Session.close()`` closes whatever was opened.
"""

from __future__ import annotations

import os
import sqlite3
from types import TracebackType
from typing import TYPE_CHECKING

from socialdesk import secrets
from socialdesk.config import Config, PageConfig, load_config, slug_name
from socialdesk.core.clock import Clock, SystemClock
from socialdesk.errors import AuthError
from socialdesk.paths import Paths, resolve_paths

if TYPE_CHECKING:
    import httpx

    from socialdesk.api.client import GraphClient

__all__ = ["GRAPH_URL_ENV", "Session", "graph_base_url"]

GRAPH_URL_ENV = "SOCIALDESK_GRAPH_URL"


def graph_base_url(config: Config) -> str | None:
    """``SOCIALDESK_GRAPH_URL``, else ``graph.base_url`` from config, else None (the default)."""
    return os.environ.get(GRAPH_URL_ENV, "").strip() or config.graph.base_url or None


class Session:
    """Paths + config + clock, with the database and Graph clients opened on demand."""

    def __init__(
        self,
        paths: Paths,
        config: Config,
        clock: Clock | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``transport`` goes to every Graph client (tests mount the sandbox in-process)."""
        self.paths = paths
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._transport = transport
        self._db: sqlite3.Connection | None = None
        self._clients: dict[str, GraphClient] = {}
        self._discovered: PageConfig | None = None
        self._discovered_title = ""
        self._env_token_used = False

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Session:
        """Resolve the paths (``home``, else ``SOCIALDESK_HOME``, else the platform dirs)."""
        paths = resolve_paths(home)
        return cls(paths, load_config(paths), clock, transport=transport)

    @property
    def db(self) -> sqlite3.Connection:
        """The database, opened (and migrated) on first use."""
        if self._db is None:
            from socialdesk.store.db import open_db

            self.paths.ensure()
            self._db = open_db(self.paths.db_file, now=self.clock.now())
            self._record_page_names(self._db)
            if self._discovered is not None:
                self.record_display_name(self._discovered.id, self._discovered_title)
        return self._db

    def record_display_name(self, page_id: str, title: str) -> None:
        """Store the Page's name from ``GET /me`` (the ``{page}`` placeholder); best effort.

        Like :meth:`_record_page_names`, a busy (or unopenable) database is left for a later
        command: ``auth login`` has already stored the token by then and must not fail here.
        """
        if not title.strip():
            return
        from socialdesk.errors import StoreError
        from socialdesk.store import outbox as store_outbox
        from socialdesk.store.db import transaction

        try:
            conn = self.db
            with transaction(conn):
                store_outbox.set_page_display_name(conn, page_id, title, now=self.clock.now())
        except (sqlite3.OperationalError, StoreError, OSError):
            pass

    def _record_page_names(self, conn: sqlite3.Connection) -> None:
        """Store the configured page names, so ``page:NAME`` queries find every page by name.

        Only names that differ are written (usually nothing); a busy database is not worth
        failing a read-only command for, so that case is left to the next command.
        """
        if not self.config.pages:
            return
        from socialdesk.store import cache
        from socialdesk.store.db import transaction

        stored = dict(conn.execute("SELECT id, name FROM pages").fetchall())
        stale = [p for p in self.config.pages.values() if stored.get(p.id) != p.name]
        if not stale:
            return
        try:
            with transaction(conn):
                for p in stale:
                    cache.upsert_page(conn, p.id, p.name, now=self.clock.now())
        except sqlite3.OperationalError:
            pass

    @property
    def db_opened(self) -> bool:
        """Whether :attr:`db` has been opened in this session."""
        return self._db is not None

    def page(self, ref: str | None = None) -> PageConfig:
        """The page ``ref`` names (name or id), else the default page.

        With no page configured, no ``ref`` and ``SOCIALDESK_TOKEN`` set, the page is the one
        the token belongs to (one ``GET /me``), so ``sandbox serve`` output and cron jobs work
        without ``init``.
        """
        if ref is None and not self.config.pages and os.environ.get(secrets.TOKEN_ENV, "").strip():
            if self._discovered is None:
                self._discovered = self._discover_page()
            return self._discovered
        return self.config.page(ref)

    def _discover_page(self) -> PageConfig:
        self._env_token_used = True
        token = secrets.env_token() or ""
        client = self.client_for_token(token)
        try:
            me = client.get("me", {"fields": "id,name"}, edge="me")
        finally:
            client.close()
        page_id = str(me.get("id") or "")
        if not page_id:
            raise AuthError(
                "the token in SOCIALDESK_TOKEN does not name a page",
                hint="use a Page access token, or configure the page with `socialdesk init`",
            )
        from socialdesk.sanitize import clean

        title = str(me.get("name") or "")
        self._discovered_title = clean(title, single_line=True)
        page = PageConfig(name=slug_name(title, fallback=f"page-{page_id}"), id=page_id)
        if self._db is not None:
            self.record_display_name(page_id, self._discovered_title)
        return page

    def token(self, page: PageConfig) -> str:
        """The page's token; AuthError naming the fix when there is none."""
        token = secrets.load_token(self.paths, page.id)
        if token and token == os.environ.get(secrets.TOKEN_ENV, "").strip():
            self._env_token_used = True
        if not token:
            raise AuthError(
                f"no token for page {page.name} ({page.id})",
                hint=(
                    f"run `socialdesk auth login --page-id {page.id}` "
                    "(or set SOCIALDESK_TOKEN for scripts)"
                ),
            )
        return token

    def client(self, page: PageConfig) -> GraphClient:
        """A Graph client for ``page`` (one per page per session; closed by :meth:`close`)."""
        existing = self._clients.get(page.id)
        if existing is not None:
            return existing
        client = self.client_for_token(self.token(page))
        self._clients[page.id] = client
        return client

    def client_for_token(self, token: str) -> GraphClient:
        """A new Graph client for ``token`` (not cached; the caller closes it)."""
        from socialdesk.api.client import GraphClient

        return GraphClient(
            token,
            base_url=graph_base_url(self.config),
            version=self.config.graph.version,
            app_secret=secrets.load_app_secret(self.paths),
            transport=self._transport,
        )

    def close(self) -> None:
        """Close the clients and the database opened by this session."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
        if self._db is not None:
            db, self._db = self._db, None
            db.close()

    def annotate_error(self, exc: BaseException) -> None:
        """Make an auth error's hint name ``SOCIALDESK_TOKEN`` when this session used that token.

        ``auth login`` cannot fix a rejected token that the environment overrides; the hint
        says which variable to fix instead. Called by :meth:`__exit__` and by commands that
        close the session themselves.
        """
        if isinstance(exc, AuthError) and self._env_token_used:
            exc.hint = (
                f"the token comes from {secrets.TOKEN_ENV}: set it to a valid Page token "
                "(or unset it to use the one stored by `socialdesk auth login`)"
            )

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.annotate_error(exc)
        self.close()
