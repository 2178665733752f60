"""Fixtures of the Instagram client tests: a frozen-clock sandbox Page with a linked Instagram
account, a database, and the discovery already stored (as ``init``/``pages`` leave it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialdesk.api.client import GraphClient
from socialdesk.core import instagram
from socialdesk.core.clock import FixedClock
from socialdesk.core.sync import sync_page
from socialdesk.models import SyncReport
from socialdesk.paths import Paths
from socialdesk.sandbox import Sandbox
from socialdesk.store.db import open_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class IgWorld:
    """One Page, its Instagram account ``acme_shop``, two IG customers, one media."""

    sb: Sandbox
    page_id: str
    ig: str
    token: str
    paths: Paths
    conn: sqlite3.Connection
    jane: str
    kuba: str
    media: str
    sleeps: list[float] = field(default_factory=list)

    def client(self, transport: httpx.BaseTransport | None = None) -> GraphClient:
        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            self.sb.advance(seconds)

        return GraphClient(
            self.token, transport=transport or self.sb.transport(), pace=False, sleep=sleep
        )

    def discover(self) -> None:
        with self.client() as client:
            instagram.discover(self.conn, client, self.page_id, now=self.sb.now())

    def sync(self, transport: httpx.BaseTransport | None = None, **kw: Any) -> SyncReport:
        with self.client(transport) as client:
            return sync_page(
                self.conn,
                client,
                self.page_id,
                paths=self.paths,
                clock=FixedClock(self.sb.now()),
                **kw,
            )

    def dm(self, user: str, text: str, *, minutes_ago: float = 0, from_page: bool = False) -> str:
        at = self.sb.now() - timedelta(minutes=minutes_ago)
        return self.sb.add_message(self.page_id, user, text, at=at, from_page=from_page)

    def edge(self, report: SyncReport, name: str) -> Any:
        return next(e for e in report.edges if e.edge == name)


def make_ig_world(tmp_path: Path, *, discover: bool = True, **sandbox: Any) -> IgWorld:
    sb = Sandbox(rate_limit=False, seed=3, **sandbox)
    sb.set_time(T0)
    page = sb.add_page("Acme Shop")
    ig = sb.add_instagram(page, "acme_shop", name="Acme Shop")
    token = sb.issue_token(page)
    jane = sb.add_ig_user("jane.doe", name="Jane Doe")
    kuba = sb.add_ig_user("kuba_knits")
    for i in range(3):
        sb.add_message(page, jane, f"jane {i}", at=T0 - timedelta(minutes=30 - i))
    sb.add_message(page, kuba, "czy macie rozmiar M?", at=T0 - timedelta(hours=2))
    media = sb.add_ig_media(ig, "New yarn", at=T0 - timedelta(days=1))
    c = sb.add_ig_comment(media, jane, "Love it!", at=T0 - timedelta(hours=5))
    sb.add_ig_comment(media, None, "@jane.doe thanks!", at=T0 - timedelta(hours=4), parent_id=c)
    d = tmp_path / "home"
    paths = Paths(d, d)
    world = IgWorld(sb, page, ig, token, paths, open_db(d / "socialdesk.db"), jane, kuba, media)
    if discover:
        world.discover()
    return world


@pytest.fixture
def igw(tmp_path: Path) -> Iterator[IgWorld]:
    world = make_ig_world(tmp_path)
    yield world
    world.conn.close()
