"""The application context: paths, config, clock, connections and Graph clients of one process.

One :class:`AppContext` per process: a CLI command run (``cli/common.py`` opens it) or the
inbox app. Every use case in ``core`` takes it (or a connection and a page it handed out):

    with AppContext.open() as ctx:
        page = ctx.page(ref)
        with closing(ctx.connect()) as conn:      # one connection per worker / unit of work
            ...
        client = ctx.client(page)                 # ONE per Page per process, shared by workers

Several workers at once: :meth:`connect` hands every caller a connection of its own (SQLite
connections are never shared between threads), and :meth:`client` keeps one Graph client per
Page behind a lock, so the Page's 2 calls/s pacing and its usage headers are shared by every
worker. Calls are counted per operation by the client itself (``client.operation(name)``).

Page lookup: by name or id from the config, else the default page; with no page configured and
``SOCIALDESK_TOKEN`` set, the page the token belongs to. That page is asked once (``GET /me``)
and remembered in the database under a keyed fingerprint of the token (``store.pages``), so a
read-only command never needs the network again for it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from socialdesk import secrets
from socialdesk.config import Config, PageConfig, load_config, slug_name
from socialdesk.core.clock import Clock, SystemClock
from socialdesk.errors import AuthError, Reason, SocialdeskError, StoreError, UsageError
from socialdesk.paths import Paths, resolve_paths

if TYPE_CHECKING:
    import httpx

    from socialdesk.api.client import GraphClient

__all__ = ["APP_ID_ENV", "GRAPH_URL_ENV", "HOME_ENV", "AppContext", "graph_base_url"]

GRAPH_URL_ENV = "SOCIALDESK_GRAPH_URL"
APP_ID_ENV = "SOCIALDESK_APP_ID"
"""The Meta app's id (wins over ``graph.app_id``); with the app secret, the app token."""
HOME_ENV = "SOCIALDESK_HOME"
DEFAULT_GRAPH_URL = "https://graph.facebook.com"


def graph_base_url(config: Config) -> str:
    """``SOCIALDESK_GRAPH_URL``, else ``graph.base_url`` from config, else the real Graph API."""
    chosen = os.environ.get(GRAPH_URL_ENV, "").strip() or config.graph.base_url
    return (chosen or DEFAULT_GRAPH_URL).rstrip("/")


def _check_home_variable() -> None:
    """A ``SOCIALDESK_HOME`` naming a missing directory is an error naming the variable.

    A typo in a cron line would otherwise start a fresh, empty home elsewhere.
    """
    raw = os.environ.get(HOME_ENV, "")
    if not raw:
        return
    home = Path(raw).expanduser()
    if not home.is_dir():
        what = "is not a directory" if home.exists() else "does not exist"
        raise UsageError(
            f"{HOME_ENV}={raw} {what}",
            hint=f"create it (mkdir -p {raw}) or fix the variable",
            reason=Reason.HOME_MISSING,
        )


class AppContext:
    """Paths + config + clock, with connections and per-Page Graph clients handed out."""

    def __init__(
        self,
        paths: Paths,
        config: Config,
        clock: Clock | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        pace: bool = True,
    ) -> None:
        """``transport`` goes to every Graph client (tests mount the sandbox in-process);
        ``pace=False`` turns off the clients' 2 calls/s spacing of conversation calls (only for
        a sandbox whose rate limit is off: a real Page needs the spacing)."""
        self.paths = paths
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.transport = transport
        self.pace = pace
        self._lock = threading.RLock()
        self._clients: dict[str, GraphClient] = {}
        self._prepared = False
        self._discovered: PageConfig | None = None
        self._discovered_title = ""
        self._remember: tuple[str, str] | None = None
        self._env_token_used = False

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        create_home: bool = False,
        pace: bool = True,
    ) -> AppContext:
        """The context of ``home``, else ``SOCIALDESK_HOME``, else the platform directories.

        A ``SOCIALDESK_HOME`` naming a missing directory is an error, unless ``create_home``
        (the setup commands, ``init`` and ``auth login``, create it).
        """
        if home is None and not create_home:
            _check_home_variable()
        paths = resolve_paths(home)
        return cls(paths, load_config(paths), clock, transport=transport, pace=pace)

    # -- settings --------------------------------------------------------------------------------

    @property
    def human_agent(self) -> bool:
        """Whether the app holds the Human Agent permission (``messaging.human_agent``)."""
        return self.config.messaging.human_agent

    @property
    def graph_url(self) -> str:
        """The Graph API base URL every client of this context talks to."""
        return graph_base_url(self.config)

    # -- pages -----------------------------------------------------------------------------------

    def page(self, ref: str | None = None) -> PageConfig:
        """The page ``ref`` names (name or id), else the default page.

        With no page configured, no ``ref`` and ``SOCIALDESK_TOKEN`` set, the page is the one
        the token belongs to (remembered in the database after the first ``GET /me``), so
        ``sandbox serve`` output and cron jobs work without ``init``.
        """
        if ref is None and not self.config.pages and secrets.env_token():
            with self._lock:
                if self._discovered is None:
                    self._discovered = self._discover_page()
                return self._discovered
        try:
            return self.config.page(ref)
        except UsageError as exc:
            raise self._neutral_page_error(exc, ref) from None

    def _neutral_page_error(self, exc: UsageError, ref: str | None) -> UsageError:
        """The config's page error, with a hint that names no option (front ends add theirs)."""
        names = ", ".join(f"{p.name} ({p.id})" for p in self.config.pages.values())
        if not self.config.pages:
            return UsageError(
                exc.message,
                hint="run `socialdesk init` (or `socialdesk auth login --page-id ID`)",
                reason=Reason.NO_PAGE,
            )
        reason = Reason.PAGE_UNKNOWN if ref is not None else Reason.PAGE_AMBIGUOUS
        return UsageError(exc.message, hint=f"configured pages: {names}", reason=reason)

    def _fingerprint(self, conn: sqlite3.Connection, token: str) -> str:
        from socialdesk.store import meta
        from socialdesk.store.db import transaction

        with transaction(conn):
            key = meta.token_key(conn)
        return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()

    def _discover_page(self) -> PageConfig:
        from socialdesk.store import pages as store_pages

        self._env_token_used = True
        token = secrets.env_token() or ""
        remembered: tuple[str, str] | None = None
        # Only a database that exists is asked: finding the page must not create one.
        if self.paths.db_file.exists():
            try:
                with closing(self.connect()) as conn:
                    remembered = store_pages.token_page(conn, self._fingerprint(conn, token))
            except (sqlite3.Error, StoreError, OSError):
                remembered = None  # an unusable database: ask the API; the command reports it
        if remembered is not None:
            page_id, title = remembered
            self._discovered_title = title
            return PageConfig(name=slug_name(title, fallback=f"page-{page_id}"), id=page_id)
        client = self.client_for_token(token)
        try:
            me = client.get("me", {"fields": "id,name"}, edge="me")
        finally:
            client.close()
        page_id = str(me.get("id") or "")
        if not page_id:
            raise AuthError(
                f"the token in {secrets.TOKEN_ENV} does not name a page",
                hint="use a Page access token, or configure the page with `socialdesk init`",
            )
        from socialdesk.sanitize import clean

        title = clean(str(me.get("name") or ""), single_line=True)
        self._discovered_title = title
        if self._prepared:
            with closing(self.connect()) as conn:
                self._remember_discovered(conn, page_id, title)
        else:
            self._remember = (page_id, title)  # by the first connection (see connect)
        return PageConfig(name=slug_name(title, fallback=f"page-{page_id}"), id=page_id)

    def _remember_discovered(self, conn: sqlite3.Connection, page_id: str, title: str) -> None:
        """Store the page the env token belongs to, and its display name; best effort (a busy
        database is left for a later command)."""
        from socialdesk.store import pages as store_pages
        from socialdesk.store.db import transaction

        self._remember = None
        token = secrets.env_token() or ""
        try:
            fingerprint = self._fingerprint(conn, token)
            with transaction(conn):
                now = self.clock.now()
                store_pages.remember_token_page(conn, fingerprint, page_id, title, now=now)
                store_pages.set_page_display_name(conn, page_id, title, now=now)
        except (sqlite3.Error, StoreError, OSError):
            pass

    def record_page(self, conn: sqlite3.Connection, page: PageConfig) -> None:
        """Store ``page``'s name (a page found from the token is not in the config), so
        ``page:NAME`` queries find it; written only when it differs."""
        from socialdesk.store import pages as store_pages
        from socialdesk.store.db import transaction

        if store_pages.stale_names(conn, [(page.id, page.name)]):
            with transaction(conn):
                store_pages.upsert_page(conn, page.id, page.name, now=self.clock.now())

    def record_display_name(self, page_id: str, title: str) -> None:
        """Store the Page's name from ``GET /me`` (the ``{page}`` placeholder); best effort.

        A busy (or unopenable) database is left for a later command: ``auth login`` has already
        stored the token by then and must not fail here.
        """
        if not title.strip():
            return
        from socialdesk.store import pages as store_pages
        from socialdesk.store.db import transaction

        try:
            with closing(self.connect()) as conn, transaction(conn):
                store_pages.set_page_display_name(conn, page_id, title, now=self.clock.now())
        except (sqlite3.Error, StoreError, OSError):
            pass

    # -- connections -----------------------------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """A NEW connection to the database (opened and migrated); the caller closes it.

        One per worker thread or unit of work. The first one of the process also records the
        configured page names, so ``page:NAME`` queries find every page by name.
        """
        from socialdesk.store.db import open_db

        self.paths.ensure()
        conn = open_db(self.paths.db_file, now=self.clock.now())
        with self._lock:
            first, self._prepared = not self._prepared, True
        if first:
            self._record_page_names(conn)
            if self._discovered is not None and self._remember is not None:
                # The page was found before any database existed: remember it now.
                self._remember_discovered(conn, *self._remember)
        return conn

    def _record_page_names(self, conn: sqlite3.Connection) -> None:
        """Only names that differ are written (usually nothing); a busy database is not worth
        failing a read-only command for, so that case is left to the next command."""
        if not self.config.pages:
            return
        from socialdesk.store import pages as store_pages
        from socialdesk.store.db import transaction

        wanted = [(p.id, p.name) for p in self.config.pages.values()]
        stale = store_pages.stale_names(conn, wanted)
        if not stale:
            return
        try:
            with transaction(conn):
                for page_id, name in stale:
                    store_pages.upsert_page(conn, page_id, name, now=self.clock.now())
        except sqlite3.OperationalError:
            pass

    # -- Graph clients ---------------------------------------------------------------------------

    def token(self, page: PageConfig) -> str:
        """The page's token; AuthError naming the fix when there is none."""
        token = secrets.load_token(self.paths, page.id)
        if token and token == secrets.env_token():
            self._env_token_used = True
        if not token:
            raise AuthError(
                f"no token for page {page.name} ({page.id})",
                hint=(
                    f"run `socialdesk auth login --page-id {page.id}` "
                    f"(or set {secrets.TOKEN_ENV} for scripts)"
                ),
                reason=Reason.NO_TOKEN,
            )
        return token

    def client(self, page: PageConfig) -> GraphClient:
        """THE Graph client of ``page`` in this process (created on first use, thread-safe).

        Every worker of the process shares it: the Page's pacing (2 calls/s on the
        Conversations API) and usage headers are per Page, not per worker. Closed by
        :meth:`close`.
        """
        with self._lock:
            existing = self._clients.get(page.id)
            if existing is not None:
                return existing
            client = self.client_for_token(self.token(page))
            self._clients[page.id] = client
            return client

    def client_for_token(self, token: str) -> GraphClient:
        """A new Graph client for ``token`` (not shared; the caller closes it)."""
        from socialdesk.api.client import GraphClient

        return GraphClient(
            token,
            base_url=self.graph_url,
            version=self.config.graph.version,
            app_secret=secrets.load_app_secret(self.paths),
            transport=self.transport,
            pace=self.pace,
        )

    def app_id(self) -> str | None:
        """The Meta app's id the user gave (``SOCIALDESK_APP_ID``, else ``graph.app_id``)."""
        return os.environ.get(APP_ID_ENV, "").strip() or self.config.graph.app_id

    def app_client(self) -> GraphClient | None:
        """A client with the app token ``APPID|APPSECRET`` (for ``debug_token`` only), when the
        user gave both the app id and the app secret; else ``None``. The caller closes it."""
        from socialdesk.api.tokens import app_client

        app_id, secret = self.app_id(), secrets.load_app_secret(self.paths)
        if not app_id or not secret:
            return None
        return app_client(
            app_id,
            secret,
            base_url=self.graph_url,
            version=self.config.graph.version,
            transport=self.transport,
        )

    # -- errors and the end ----------------------------------------------------------------------

    def annotate_error(self, exc: BaseException) -> None:
        """Make an auth error's hint name ``SOCIALDESK_TOKEN`` when this context used that token.

        ``auth login`` cannot fix a rejected token that the environment overrides; the hint
        says which variable to fix instead.
        """
        if isinstance(exc, AuthError) and self._env_token_used:
            exc.hint = (
                f"the token comes from {secrets.TOKEN_ENV}: set it to a valid Page token "
                "(or unset it to use the one stored by `socialdesk auth login`)"
            )
            exc.reason = Reason.TOKEN_FROM_ENV

    def close(self) -> None:
        """Close the Graph clients of this context."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> AppContext:
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


def storage_failure(exc: BaseException) -> SocialdeskError | None:
    """A SQLite error of the file or machine that escaped the store (a read of a damaged page),
    as the store's error naming the database file and the fix; ``None`` for anything else.

    Front ends call it on an unexpected exception before reporting it as a bug.
    """
    if type(exc).__module__ != "sqlite3" or not isinstance(exc, sqlite3.Error):
        return None
    from socialdesk.store.db import store_failure

    try:
        path = resolve_paths().db_file
    except SocialdeskError:
        return None
    return store_failure(exc, path)
