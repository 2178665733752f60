"""Token checks without debug_token (api/tokens.py) and doctor --probe (api/probes.py).

Against the in-process sandbox in its strict mode, where a Page token may not call
debug_token (docs/GRAPH_API.md §20.4): reads settle what they can, an app token the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from socialdesk.api.client import GraphClient
from socialdesk.api.errors import TokenInvalid
from socialdesk.api.probes import PROBES, ProbeResult, ProbeStatus, run_probes
from socialdesk.api.tokens import NO_APP_TOKEN, app_client, check_page_token
from socialdesk.sandbox import Sandbox

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BASE = "https://graph.facebook.com"


class _Record(httpx.BaseTransport):
    """The sandbox transport, remembering each request's method and path."""

    def __init__(self, sb: Sandbox) -> None:
        self.inner = sb.transport()
        self.seen: list[tuple[str, str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path, request.read().decode()))
        return self.inner.handle_request(request)


def _world(**token_kw: object) -> tuple[Sandbox, str, str]:
    sb = Sandbox(clock=lambda: NOW, rate_limit=False, lenient_debug_token=False)
    page = sb.add_page("Shop")
    user = sb.add_user("Ana")
    sb.add_message(page, user, "hi", at=NOW - timedelta(hours=1))
    post = sb.add_post(page, "new stock", at=NOW - timedelta(days=1))
    sb.add_comment(post, user, "price?", at=NOW - timedelta(hours=2))
    return sb, page, sb.issue_token(page, **token_kw)  # type: ignore[arg-type]


def _client(sb: Sandbox, token: str, transport: httpx.BaseTransport | None = None) -> GraphClient:
    return GraphClient(token, base_url=BASE, transport=transport or sb.transport(), pace=False)


def test_a_page_token_is_checked_with_reads_and_says_what_it_could_not_check() -> None:
    """No app token: /me, the Page node and two capability reads; debug_token not asked."""
    sb, page, token = _world()
    rec = _Record(sb)
    check = check_page_token(_client(sb, token, rec), page)
    assert check.is_page_token and check.page is not None and check.page.id == page
    assert {c.name: c.ok for c in check.capabilities} == {"messaging": True, "comments": True}
    assert check.info is None and check.unchecked == (NO_APP_TOKEN,)
    assert all(method == "GET" for method, _, _ in rec.seen)
    assert not any(path.endswith("debug_token") for _, path, _ in rec.seen)


def test_with_an_app_token_debug_token_gives_type_scopes_and_expiry() -> None:
    """An app id + secret: debug_token is asked as the app, and answers for the Page token."""
    sb, page, token = _world()
    app_id, secret = sb.app_credentials()
    app = app_client(app_id, secret, base_url=BASE, transport=sb.transport())
    check = check_page_token(_client(sb, token), page, app=app)
    assert check.info is not None and check.info.is_valid and check.info.type.upper() == "PAGE"
    assert check.unchecked == ()


def test_a_wrong_app_secret_is_reported_not_raised() -> None:
    """debug_token refusing the app token is one unchecked line; the reads still count."""
    sb, page, token = _world()
    app_id, _ = sb.app_credentials()
    app = app_client(app_id, "wrong-secret", base_url=BASE, transport=sb.transport())
    check = check_page_token(_client(sb, token), page, app=app)
    assert check.is_page_token and check.info is None
    assert len(check.unchecked) == 1 and "debug_token" in check.unchecked[0]


def test_missing_permission_and_task_are_named_by_the_capability_reads() -> None:
    """No pages_messaging: messaging fails naming it; no MODERATE: comments fail naming it."""
    sb, page, token = _world(scopes=["pages_read_engagement", "pages_manage_metadata"])
    check = check_page_token(_client(sb, token), page)
    messaging = check.capability("messaging")
    assert messaging is not None and messaging.ok is False
    assert messaging.reason == "missing_permission" and "pages_messaging" in (messaging.hint or "")
    sb2, page2, token2 = _world(tasks=("MESSAGING",))
    comments = check_page_token(_client(sb2, token2), page2).capability("comments")
    assert comments is not None and comments.ok is False
    assert comments.reason == "moderate_task_missing"


def test_an_invalid_token_raises() -> None:
    """A rejected token is not a capability problem: TokenInvalid propagates."""
    sb, page, token = _world()
    sb.invalidate_token(token)
    with pytest.raises(TokenInvalid):
        check_page_token(_client(sb, token), page)


def by_number(results: list[ProbeResult], n: int) -> ProbeResult:
    return next(r for r in results if r.number == n)


def test_probes_ask_every_question_with_reads_only() -> None:
    """Every question answered; write-only ones not_checked with a manual way."""
    sb, page, token = _world()
    rec = _Record(sb)
    results = run_probes(_client(sb, token, rec), page, now=NOW)
    numbers = [*range(1, 13), 101, 102, 109, 114]  # 101+: Instagram (INSTAGRAM_API.md §12)
    assert [r.number for r in results] == numbers == [q.number for q in PROBES]
    for n in (101, 102, 109, 114):  # this Page has no Instagram account
        assert by_number(results, n).status is ProbeStatus.INCONCLUSIVE
    by = {r.number: r for r in results}
    for n in (5, 6, 9):
        assert by[n].status is ProbeStatus.NOT_CHECKED and by[n].found
    assert by[1].status is ProbeStatus.AS_ASSUMED and "limit=500" in by[1].found
    assert by[7].status is ProbeStatus.AS_ASSUMED  # the strict sandbox refuses a Page token
    assert by[8].status is ProbeStatus.AS_ASSUMED and "messenger" in by[8].found
    assert all(r.status is not ProbeStatus.ERROR for r in results), results
    # Reads only: GETs, and debug_token as a POST carrying Graph's method=GET override.
    posts = [(p, body) for m, p, body in rec.seen if m != "GET"]
    assert [p for p, _ in posts] == ["/v26.0/debug_token"]
    assert "method=GET" in posts[0][1]


def test_probes_see_folders_ranked_comments_and_shares() -> None:
    """With a spam thread, a ranked post and a share, those probes settle their question."""
    sb, page, token = _world()
    spammer = sb.add_user("Spam Bot")
    sb.add_message(page, spammer, "cheap followers", at=NOW - timedelta(minutes=30))
    sb.set_folder(page, spammer, "spam")
    ranked = sb.add_post(page, "giveaway", at=NOW - timedelta(hours=5), ranked=True)
    sb.add_comment(ranked, sb.add_user("A"), "old", at=NOW - timedelta(hours=4), likes=9)
    sb.add_comment(ranked, sb.add_user("B"), "new", at=NOW - timedelta(hours=1))
    sb.add_message(
        page, spammer, "", at=NOW - timedelta(minutes=20), shares=[{"link": "https://x.example"}]
    )
    sb.set_folder(page, spammer, "inbox")
    results = {r.number: r for r in run_probes(_client(sb, token), page, now=NOW)}
    assert results[3].status is ProbeStatus.AS_ASSUMED and "ranked" in results[3].found
    assert results[10].status is ProbeStatus.AS_ASSUMED
    assert results[4].status in (ProbeStatus.AS_ASSUMED, ProbeStatus.INCONCLUSIVE)


def test_the_readme_lists_every_question_and_which_ones_the_probe_asks() -> None:
    """README "Questions only a live Page can settle": one row per question, in order, and its
    `--probe` column says `asks` exactly for the questions a read can settle."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Questions only a live Page can settle", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    page_probes = [q for q in PROBES if q.number < 100]
    assert [int(c[0]) for c in cells] == [q.number for q in page_probes]
    assert [c[-1] for c in cells] == ["by hand" if q.ask is None else "asks" for q in page_probes]
    # The Instagram questions (numbered 100 + their number in the Instagram list) are listed
    # in the README's Instagram section, which names the numbers the probe asks.
    ig = readme.split("### Instagram: questions only a live account can settle", 1)[1]
    ig = ig.split("\n## ", 1)[0]
    asked = [q.number for q in PROBES if q.number >= 100 and q.ask is not None]
    for number in asked:
        assert f"\n{number - 100}. " in ig and str(number) in ig
