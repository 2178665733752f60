"""A sandbox page, a synced database and an application context on ONE movable clock, with a
rules file: the world of the rules tests (tests/rules)."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from socialdesk.api.client import GraphClient
from socialdesk.config import Config, MessagingConfig, PageConfig, StatsConfig
from socialdesk.core import outbox as core_outbox
from socialdesk.core import rules
from socialdesk.core.clock import FixedClock
from socialdesk.core.context import AppContext
from socialdesk.core.sync import sync_page
from socialdesk.models import Thread
from socialdesk.paths import resolve_paths
from socialdesk.sandbox import Sandbox
from socialdesk.sandbox.model import Delivery
from socialdesk.store.db import open_db
from socialdesk.store.threads import list_threads

NIGHT = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
"""A Monday, 20:00 UTC: outside the world's business hours (Mon-Fri 09:00-17:00)."""

AWAY = """
[settings]
pace_seconds = 0

[templates.away]
text = ["Hi {first_name}, we're closed now; a person will answer when we open.",
        "Thanks {first_name}! We're away; we'll reply in person when we're back.",
        "Hello {first_name}, the team is offline now. We'll get back to you soon."]

[[rule]]
name     = "away"
state    = "live"
query    = "is:dm is:unanswered"
hours    = "closed"
reply    = "away"
once     = "request"
cooldown = "12h"
max_age  = "30m"
tag      = ["away-sent"]
"""


class _Refusing(httpx.BaseTransport):
    """The sandbox's transport; sends answer a Graph error while ``code`` is set."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.code: int | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sending = request.method == "POST" and request.url.path.endswith("/messages")
        if self.code is not None and sending:
            body = {"message": "refused", "type": "OAuthException", "code": self.code}
            return httpx.Response(400, json={"error": body})
        return self.inner.handle_request(request)


class RulesWorld:
    """A sandbox page whose clock is the world's (``advance`` moves both)."""

    def __init__(
        self,
        tmp_path: Path,
        rules_text: str = AWAY,
        *,
        human_agent: bool = False,
        start: datetime = NIGHT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.clock = FixedClock(start)
        self.sb = Sandbox(clock=self.clock.now, rate_limit=False)
        self.page = self.sb.add_page("Corner Shop")
        self.token = self.sb.issue_token(self.page)
        self.refusing = _Refusing(transport or self.sb.transport())
        self.transport: httpx.BaseTransport = self.refusing
        self.client = GraphClient(
            self.token, transport=self.transport, pace=False, sleep=lambda s: None, max_attempts=2
        )
        self.paths = resolve_paths(tmp_path / "home")
        self.paths.ensure()
        self.conn = open_db(self.paths.db_file)
        self.page_cfg = PageConfig(name="corner", id=self.page)
        config = Config().with_page(self.page_cfg)
        config = dataclasses.replace(
            config,
            stats=StatsConfig(timezone="UTC", business_hours="Mon-Fri 09:00-17:00"),
            messaging=MessagingConfig(human_agent=human_agent),
        )
        self.ctx = AppContext(self.paths, config, self.clock, transport=self.transport)
        self.ctx._clients[self.page] = self.client
        self.write_rules(rules_text)
        self.sync()
        # The first run sets the watermark (history is never a candidate).
        rules.run(self.ctx, self.conn, self.page_cfg)
        self.advance(minutes=5)  # what follows arrives after the rules went live

    def write_rules(self, text: str) -> None:
        (self.paths.config_dir / "rules.toml").write_text(text)

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)

    def dm(self, name: str, text: str = "hello?", *, ago: timedelta = timedelta(minutes=1)) -> str:
        user = self.sb.add_user(name)
        self.sb.add_message(self.page, user, text, at=self.now() - ago)
        return user

    def write(self, user: str, text: str, *, ago: timedelta = timedelta(seconds=30)) -> None:
        self.sb.add_message(self.page, user, text, at=self.now() - ago)

    def sync(self) -> None:
        sync_page(self.conn, self.client, self.page, paths=self.paths, clock=self.clock, full=True)

    def run(self, **kw: object) -> rules.RunReport:
        return rules.run(self.ctx, self.conn, self.page_cfg, **kw)  # type: ignore[arg-type]

    def sync_run(self) -> rules.RunReport:
        self.sync()
        return self.run()

    def thread_of(self, user: str) -> Thread:
        for th in list_threads(self.conn, "", page_id=self.page, now=self.now(), limit=None):
            if th.customer.id == user:
                return th
        raise AssertionError(f"no thread for {user}")

    def human_reply(self, user: str, text: str = "A person here: how can I help?") -> None:
        th = self.thread_of(user)
        prepared = core_outbox.queue(self.conn, th, [text], now=self.now(), human_agent=False)
        core_outbox.send_prepared(self.conn, self.client, prepared, clock=self.clock)

    def deliveries(self, user: str | None = None) -> list[Delivery]:
        return list(self.sb.deliveries(self.page, user))

    def numbers(self, query: str) -> list[int]:
        return [
            th.number
            for th in list_threads(self.conn, query, page_id=self.page, now=self.now(), limit=None)
        ]

    def db(self) -> sqlite3.Connection:
        return self.conn

    def close(self) -> None:
        self.client.close()
        self.conn.close()
