"""The api layer against the in-process sandbox (socialdesk.sandbox) instead of hand-made JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialdesk.api import graph
from socialdesk.api.client import GraphClient
from socialdesk.api.errors import InvalidRequest, PolicyRefused, TokenInvalid
from socialdesk.models import Direction
from socialdesk.sandbox import Sandbox, build_demo
from tests.api.conftest import FakeTime

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _client(sb: Sandbox, token: str, *, app_secret: str | None = None) -> GraphClient:
    fake = FakeTime()

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        sb.advance(seconds)

    return GraphClient(
        token,
        base_url="https://graph.facebook.com",
        transport=sb.transport(),
        sleep=sleep,
        monotonic=fake.monotonic,
        rand=lambda: 0.5,
        app_secret=app_secret,
    )


@pytest.fixture
def sandbox() -> tuple[Sandbox, str, str, str]:
    """A page, one customer with a text, a sticker and a page reply; one post with comments."""
    sb = Sandbox(clock=lambda: NOW, rate_limit=False)
    page = sb.add_page("Cafe Lumen")
    token = sb.issue_token(page)
    user = sb.add_user("Ana Souza")
    sb.add_message(page, user, "hello", at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    sb.add_message(
        page,
        user,
        "hi, how can we help?",
        at=datetime(2026, 11, 22, 9, 5, tzinfo=UTC),
        from_page=True,
    )
    sb.add_message(
        page,
        user,
        "",
        at=datetime(2026, 11, 22, 9, 6, tzinfo=UTC),
        sticker="https://scontent.example/sticker.png",
    )
    post = sb.add_post(page, "Autumn menu", at=datetime(2026, 11, 20, tzinfo=UTC))
    top = sb.add_comment(post, user, "vegan?", at=datetime(2026, 11, 21, tzinfo=UTC))
    sb.add_comment(post, None, "yes!", at=datetime(2026, 11, 21, 1, tzinfo=UTC), parent_id=top)
    return sb, page, token, user


def test_read_conversations_and_feed(sandbox: tuple[Sandbox, str, str, str]) -> None:
    """Conversations and feed from the sandbox parse into the expected models."""
    sb, page, token, user = sandbox
    client = _client(sb, token)
    assert graph.get_me(client).name == "Cafe Lumen"
    convs = [c for p in graph.iter_conversations(client, page) for c in p]
    assert len(convs) == 1
    conv = convs[0]
    assert conv.customer.id == user
    assert [m.direction for m in conv.messages] == [Direction.IN, Direction.OUT, Direction.IN]
    assert conv.messages[0].text == "" and conv.messages[0].attachments[0].kind == "sticker"
    posts = [p for page_ in graph.iter_feed(client, page) for p in page_]
    assert len(posts) == 1
    threads = {c.thread_id for c in posts[0].comments}
    assert len(threads) == 1
    assert {c.direction for c in posts[0].comments} == {Direction.IN, Direction.OUT}


def test_send_and_comment_actions(sandbox: tuple[Sandbox, str, str, str]) -> None:
    """A send is delivered once; a public reply and hiding work."""
    sb, page, token, user = sandbox
    client = _client(sb, token)
    result = graph.send_message(client, page, text="On it!", recipient_id=user)
    assert result.message_id
    assert len(sb.deliveries(page, user)) == 1
    post = next(iter(graph.iter_feed(client, page)))[0]
    top = next(c for c in post.comments if c.parent_id is None)
    reply = graph.reply_to_comment(client, top.id, "Thanks")
    assert reply.message_id
    graph.set_comment_hidden(client, top.id, True)
    post = next(iter(graph.iter_feed(client, page)))[0]
    assert next(c for c in post.comments if c.id == top.id).is_hidden


def test_window_error_is_policy_refused(sandbox: tuple[Sandbox, str, str, str]) -> None:
    """A send after the 24 h window is refused with PolicyRefused and not retried."""
    sb, page, token, user = sandbox
    sb.set_time(datetime(2026, 11, 25, tzinfo=UTC))
    client = _client(sb, token)
    with pytest.raises(PolicyRefused) as info:
        graph.send_message(client, page, text="late", recipient_id=user)
    assert info.value.code == 10 and client.calls == 1


def test_appsecret_proof_and_invalid_token(sandbox: tuple[Sandbox, str, str, str]) -> None:
    """A required proof is accepted when computed by the client; an invalidated token is 190."""
    sb, page, token, _ = sandbox
    sb.require_appsecret_proof("app-secret-1")
    assert graph.get_me(_client(sb, token, app_secret="app-secret-1")).id == page
    with pytest.raises(InvalidRequest):
        graph.get_me(_client(sb, token))
    sb.require_appsecret_proof(None)
    sb.invalidate_token(token)
    with pytest.raises(TokenInvalid) as info:
        graph.get_me(_client(sb, token))
    assert info.value.subcode == 460


def test_demo_pages_through_every_conversation() -> None:
    """All demo conversations come back once, across several pages, with rate limits on."""
    sb, page, token = build_demo(seed=0, threads=60, now=NOW)
    client = _client(sb, token)
    pages = list(graph.iter_conversations(client, page, page_size=25))
    ids = [c.id for p in pages for c in p]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert client.calls == len(pages) >= 3


def test_faults_are_absorbed_by_retries() -> None:
    """With transient faults injected, paging still returns the clean result."""
    clean_sb, page, token = build_demo(seed=1, threads=40, now=NOW)
    clean = {
        c.id
        for p in graph.iter_conversations(_client(clean_sb, token), page, page_size=10)
        for c in p
    }
    sb, page, token = build_demo(
        seed=1, threads=40, now=NOW, faults="rate=0.4,kinds=500:2,1,malformed,613,seed=5"
    )
    client = _client(sb, token)
    pages = list(graph.iter_conversations(client, page, page_size=10))
    assert {c.id for p in pages for c in p} == clean
    assert client.calls > len(pages)  # some requests failed and were retried
