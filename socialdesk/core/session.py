"""One command run's convenience: an :class:`~socialdesk.core.context.AppContext` and one
connection, opened on first use.

Called by the CLI (``cli/common.py``'s ``session()``) and tests. Everything that matters lives
in the context; the session only saves a command from opening and closing its one connection:

    with Session.open() as session:
        page = session.page(page_ref)
        threads = Inbox(session.ctx, session.db, page).threads(None)
"""

from __future__ import annotations

import os
import sqlite3
from types import TracebackType
from typing import TYPE_CHECKING

from socialdesk.config import Config, PageConfig
from socialdesk.core.clock import Clock
from socialdesk.core.context import AppContext
from socialdesk.paths import Paths

if TYPE_CHECKING:
    import httpx

    from socialdesk.api.client import GraphClient

__all__ = ["Session"]


class Session:
    """A context and its one connection (opened lazily, closed with the session)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._db: sqlite3.Connection | None = None

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Session:
        """A session over :meth:`AppContext.open`."""
        return cls(AppContext.open(home, clock=clock, transport=transport))

    @property
    def paths(self) -> Paths:
        return self.ctx.paths

    @property
    def config(self) -> Config:
        return self.ctx.config

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def db(self) -> sqlite3.Connection:
        """The session's connection, opened (and migrated) on first use."""
        if self._db is None:
            self._db = self.ctx.connect()
        return self._db

    @property
    def db_opened(self) -> bool:
        """Whether :attr:`db` has been opened in this session."""
        return self._db is not None

    def page(self, ref: str | None = None) -> PageConfig:
        """:meth:`AppContext.page`."""
        return self.ctx.page(ref)

    def client(self, page: PageConfig) -> GraphClient:
        """:meth:`AppContext.client`."""
        return self.ctx.client(page)

    def annotate_error(self, exc: BaseException) -> None:
        """:meth:`AppContext.annotate_error`."""
        self.ctx.annotate_error(exc)

    def close(self) -> None:
        """Close the connection and the context's clients."""
        if self._db is not None:
            db, self._db = self._db, None
            db.close()
        self.ctx.close()

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
