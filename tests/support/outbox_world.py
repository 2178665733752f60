"""A sandbox page with customers, a synced database, a client and an application context, all
in-process: the world of the outbox, reply, triage and ack tests at core level."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from socialdesk.api.client import GraphClient
from socialdesk.config import Config, PageConfig
from socialdesk.core import outbox as core
from socialdesk.core.clock import Clock, SystemClock
from socialdesk.core.context import AppContext
from socialdesk.core.sync import sync_page
from socialdesk.models import Thread
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import Sandbox
from socialdesk.store import outbox as store
from socialdesk.store.db import open_db
from socialdesk.store.threads import list_threads


class World:
    """A sandbox page with customers, a synced database and a client (in-process transport).

    ``ctx`` is an :class:`AppContext` on the same home, page, token and transport, for the use
    cases that take one (``core.replying``, ``core.inbox``).
    """

    def __init__(self, tmp_path: Path, *, human_agent: bool = False) -> None:
        self.sb = Sandbox(rate_limit=False)
        self.page = self.sb.add_page("Corner Shop")
        self.token = self.sb.issue_token(self.page)
        self.client = GraphClient(
            self.token,
            transport=self.sb.transport(),
            pace=False,
            sleep=lambda s: None,
            max_attempts=2,
        )
        self.paths = resolve_paths(tmp_path / "home")
        self.paths.ensure()
        self.conn = open_db(self.paths.db_file)
        self.clock: Clock = SystemClock()
        self.page_cfg = PageConfig(name="corner", id=self.page)
        config = Config().with_page(self.page_cfg)
        if human_agent:
            import dataclasses

            from socialdesk.config import MessagingConfig

            config = dataclasses.replace(config, messaging=MessagingConfig(human_agent=True))
        self.ctx = AppContext(
            self.paths, config, self.clock, transport=self.sb.transport(), pace=False
        )
        # The context's client of this page is the world's client: one per Page per process.
        self.ctx._clients[self.page] = self.client

    def now(self) -> datetime:
        return self.sb.now()

    def dm(
        self,
        name: str,
        text: str = "hello?",
        *,
        ago: timedelta = timedelta(minutes=5),
        blocked: bool = False,
    ) -> str:
        user = self.sb.add_user(name, blocked=blocked)
        self.sb.add_message(self.page, user, text, at=self.now() - ago)
        return user

    def comment(
        self, name: str, text: str = "price?", *, ago: timedelta = timedelta(hours=1)
    ) -> tuple[str, str]:
        user = self.sb.add_user(name)
        post = self.sb.add_post(self.page, "New stock!", at=self.now() - ago - timedelta(hours=1))
        cid = self.sb.add_comment(post, user, text, at=self.now() - ago)
        return user, cid

    def sync(self) -> None:
        sync_page(self.conn, self.client, self.page, paths=self.paths, clock=self.clock, full=True)

    def thread_of(self, user: str) -> Thread:
        for th in list_threads(self.conn, "", page_id=self.page, now=self.now(), limit=None):
            if th.customer.id == user:
                return th
        raise AssertionError(f"no thread for {user}")

    def send(
        self, th: Thread, text: str, *, private: bool = False, human_agent: bool = False
    ) -> list[store.OutboxRecord]:
        prepared = core.queue(
            self.conn, th, [text], now=self.clock.now(), human_agent=human_agent, private=private
        )
        core.send_prepared(self.conn, self.client, prepared, clock=self.clock)
        return [store.get(self.conn, i) for i in prepared.ids]

    def close(self) -> None:
        self.client.close()
        self.conn.close()
