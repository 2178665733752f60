"""One bad item never costs its neighbours (api/graph.py + api/parse.py), and the new fields.

Null or empty ids, wrong types and non-objects are skipped and reported with their position
and raw value; a page of comments without any id is the MODERATE-task case and fails the edge;
Reels, comment totals, private-reply fields and share sub-fields are read.
"""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.api import graph
from socialdesk.api.errors import InvalidRequest, ModerateTaskMissing
from socialdesk.errors import ExitCode
from tests.api.conftest import PAGE_ID, TOKEN, Recorder, make_client, ok

T1 = "2026-11-20T10:00:00+0000"


def _msg(mid: Any, text: str = "hi") -> dict[str, Any]:
    return {"id": mid, "created_time": T1, "from": {"id": "u1", "name": "Ana"}, "message": text}


def _conv(cid: Any, messages: list[Any]) -> dict[str, Any]:
    return {
        "id": cid,
        "updated_time": T1,
        "message_count": len(messages),
        "participants": {"data": [{"id": "u1", "name": "Ana"}, {"id": PAGE_ID, "name": "Shop"}]},
        "messages": {"data": messages},
    }


def test_a_conversation_with_a_null_id_is_skipped_and_its_neighbours_kept() -> None:
    """Null id, empty id, a number for an object, a string item: reported; the rest parsed."""
    page = {
        "data": [
            _conv("t_1", [_msg("m_1")]),
            _conv(None, [_msg("m_2")]),
            _conv("", [_msg("m_3")]),
            42,
            "t_oops",
            _conv("t_2", [_msg("m_4")]),
        ]
    }
    client = make_client(Recorder([ok(page)]))
    [batch] = list(graph.iter_conversations(client, PAGE_ID))
    assert [c.id for c in batch] == ["t_1", "t_2"]
    assert [(p.page, p.index, p.field) for p in batch.problems] == [
        (1, 1, "id"),
        (1, 2, "id"),
        (1, 3, "item"),
        (1, 4, "item"),
    ]
    assert batch.problems[0].raw == "None" and batch.problems[1].raw == "''"
    assert batch.problems[2].raw == "42"
    assert "conversations page 1, item 2" in batch.problems[0].describe()


def test_a_bad_nested_message_is_skipped_and_reported_with_its_conversation() -> None:
    """A message with a null id or an unreadable time inside a good conversation."""
    bad_time = {**_msg("m_2"), "created_time": {"no": "time"}}
    conv = _conv("t_1", [_msg("m_1"), _msg(None), bad_time, [1, 2]])
    conv["updated_time"] = None  # no fallback time for the bad one
    page = {"data": [conv]}
    client = make_client(Recorder([ok(page)]))
    [batch] = list(graph.iter_conversations(client, PAGE_ID))
    [conv_parsed] = batch
    assert [m.id for m in conv_parsed.messages] == ["m_1"]
    problems = {(p.edge, p.index, p.field, p.parent) for p in batch.problems}
    assert problems == {
        ("messages", 1, "id", "t_1"),
        ("messages", 2, "created_time", "t_1"),
        ("messages", 3, "item", "t_1"),
    }


def test_raw_values_are_ascii_cut_short_and_free_of_control_bytes() -> None:
    """A hostile raw id is shown escaped (no ESC byte), and cut to a few dozen characters."""
    page = {"data": [_conv(["\x1b]52;c;payload\x07" + "x" * 500], [_msg("m_1")])]}
    client = make_client(Recorder([ok(page)]))
    [batch] = list(graph.iter_conversations(client, PAGE_ID))
    [p] = batch.problems
    assert "\x1b" not in p.raw and "\\x1b" in p.raw and len(p.raw) <= 60
    assert p.raw.isascii() and TOKEN not in p.describe()


def _post(pid: str, comments: list[Any], total: int | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"data": comments}
    if total is not None:
        block["summary"] = {"order": "ranked", "total_count": total, "can_comment": True}
    return {"id": pid, "created_time": T1, "message": "post", "comments": block}


def _comment(cid: Any, **extra: Any) -> dict[str, Any]:
    c = {"created_time": T1, "from": {"id": "u2", "name": "Ben"}, "message": "price?", **extra}
    if cid is not ...:
        c["id"] = cid
    return c


def test_comments_without_any_id_mean_the_moderate_task_is_missing() -> None:
    """Every comment lacks the id key: ModerateTaskMissing naming the task (exit 3)."""
    page = {"data": [_post("111_1", [_comment(...), _comment(...)], total=2)]}
    client = make_client(Recorder([ok(page)]))
    with pytest.raises(ModerateTaskMissing) as info:
        list(graph.iter_feed(client, PAGE_ID))
    assert "MODERATE" in str(info.value) and "MODERATE" in (info.value.hint or "")
    assert info.value.exit_code == ExitCode.AUTH
    assert info.value.reason == "moderate_task_missing"


def test_one_comment_with_a_null_id_is_a_bad_item_not_a_missing_task() -> None:
    """An id key present but null on one comment: that comment is skipped, the rest kept."""
    page = {"data": [_post("111_1", [_comment("111_1_a"), _comment(None)], total=2)]}
    client = make_client(Recorder([ok(page)]))
    [batch] = list(graph.iter_feed(client, PAGE_ID))
    [post] = batch
    assert [c.id for c in post.comments] == ["111_1_a"]
    assert [(p.edge, p.index, p.parent) for p in batch.problems] == [("comments", 1, "111_1")]


def test_post_reads_comment_total_and_private_reply_fields() -> None:
    """summary.total_count, can_reply_privately and private_reply_conversation are read."""
    comments = [
        _comment("111_1_a", can_reply_privately=False, private_reply_conversation={"id": "t_9"}),
        _comment("111_1_b", can_reply_privately=True),
        _comment("111_1_c", can_reply_privately="yes"),
    ]
    client = make_client(Recorder([ok({"data": [_post("111_1", comments, total=57)]})]))
    [[post]] = list(graph.iter_feed(client, PAGE_ID))
    assert post.comment_total == 57 and post.kind == "post"
    a, b, c = post.comments
    assert (a.can_reply_privately, a.private_reply_conversation) == (False, "t_9")
    assert (b.can_reply_privately, b.private_reply_conversation) == (True, None)
    assert c.can_reply_privately is None


def test_reels_come_from_video_reels_with_their_description() -> None:
    """iter_reels reads /{page}/video_reels; a Reel is a Post of kind reel."""
    reel = {
        "id": "r_1",
        "description": "new drop",
        "created_time": T1,
        "permalink_url": "https://www.facebook.com/reel/1",
        "comments": {"data": [_comment("r_1_a")], "summary": {"total_count": 1}},
    }
    recorder = Recorder([ok({"data": [reel]})])
    client = make_client(recorder)
    [[post]] = list(graph.iter_reels(client, PAGE_ID))
    assert (post.id, post.kind, post.message, post.comment_total) == ("r_1", "reel", "new drop", 1)
    url = recorder.requests[0].url
    assert url.path == f"/v26.0/{PAGE_ID}/video_reels"
    assert url.params["fields"] == graph.REEL_FIELDS_NESTED


def test_more_comments_walk_is_bounded_by_the_total_count() -> None:
    """A post claiming 150 comments: the follow-up walk stops within a few pages of that."""
    from socialdesk.api.errors import PagingLimit
    from socialdesk.api.parse import parse_post

    post = parse_post(
        {
            **_post("111_1", [_comment("111_1_a")], total=150),
            "comments": {
                "data": [_comment("111_1_a")],
                "summary": {"total_count": 150},
                "paging": {"next": "https://graph.facebook.com/v26.0/111_1/comments?after=A"},
            },
        },
        page_id=PAGE_ID,
    )
    counter = {"n": 0}

    def handler(request: Any) -> Any:
        counter["n"] += 1
        nxt = f"https://graph.facebook.com/v26.0/111_1/comments?after=B{counter['n']}"
        return ok({"data": [_comment(f"111_1_{counter['n']}")], "paging": {"next": nxt}})

    client = make_client(Recorder(handler))
    with pytest.raises(PagingLimit):
        list(graph.iter_more_comments(client, PAGE_ID, post))
    assert counter["n"] == 2 + 3  # ceil(150 / 100) + slack


def test_more_comments_link_uses_the_remembered_page_size() -> None:
    """The nested next link is resized to 100, or less after a halving."""
    from socialdesk.api.parse import parse_post

    link = "https://graph.facebook.com/v26.0/111_1/comments?limit=25&after=A&since&__previous"
    post = parse_post(
        {
            **_post("111_1", []),
            "comments": {"data": [_comment("111_1_a")], "paging": {"next": link}},
        },
        page_id=PAGE_ID,
    )
    recorder = Recorder([ok({"data": []}), ok({"data": []})])
    client = make_client(recorder)
    list(graph.iter_more_comments(client, PAGE_ID, post))
    client.page_size["comments"] = 40
    list(graph.iter_more_comments(client, PAGE_ID, post))
    queries = [r.url.query.decode() for r in recorder.requests]
    assert queries[0] == "after=A&since&__previous&limit=100"
    assert queries[1] == "after=A&since&__previous&limit=40"


def test_retired_message_tags_are_refused_before_any_call() -> None:
    """ACCOUNT_UPDATE and friends answer error 100 since 2026-04-27: never sent."""
    recorder = Recorder([])
    client = make_client(recorder)
    for tag in ("CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"):
        with pytest.raises(InvalidRequest) as info:
            graph.send_message(
                client,
                PAGE_ID,
                text="hello",
                recipient_id="u1",
                messaging_type="MESSAGE_TAG",
                tag=tag,
            )
        assert info.value.reason == "retired_tag" and info.value.request_sent is False
    assert recorder.requests == []


def test_shares_sub_fields_are_read() -> None:
    """A share with its requested sub-fields keeps its link and name."""
    message = {
        **_msg("m_1", ""),
        "shares": {"data": [{"link": "https://x.example/p", "name": "Hat"}]},
    }
    client = make_client(Recorder([ok({"data": [_conv("t_1", [message])]})]))
    [[conv]] = list(graph.iter_conversations(client, PAGE_ID))
    [share] = conv.messages[0].attachments
    assert (share.kind, share.url, share.name) == ("share", "https://x.example/p", "Hat")
