"""Pilot tests of every inbox action, asserting on the store and on what the sandbox received.

Each test drives the real app (keys through Pilot) over a demo sandbox mounted in-process, with
a fixed clock; the sync timer is off so nothing moves unless a test asks for it.
"""

from __future__ import annotations

import stat
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from socialdesk.models import Status
from socialdesk.store.db import open_db
from socialdesk.tui.app import InboxApp
from socialdesk.tui.screens.help import HelpScreen
from socialdesk.tui.screens.stats import StatsScreen

from .conftest import NOW, Inbox
from .helpers import clear, closed_dm, fill, open_dm, private_comment, select, settle, type_text


def _app(box: Inbox, **kw: object) -> InboxApp:
    return InboxApp(box.gateway, sync_on_start=False, background_sync=False, **kw)  # type: ignore[arg-type]


def _status(box: Inbox, number: int) -> Status:
    return box.gateway.resolve(f"#{number}").thread.status


def _log_actions(box: Inbox, thread_id: str) -> list[str]:
    conn = open_db(box.gateway.ctx.paths.db_file, migrate=False)
    try:
        return [
            r[0]
            for r in conn.execute(
                "SELECT action FROM triage_log WHERE thread_id = ? AND undone_at IS NULL"
                " ORDER BY id",
                (thread_id,),
            )
        ]
    finally:
        conn.close()


async def test_first_screen_lists_awaiting_threads_and_opens_one(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        expected = inbox.gateway.thread_numbers("is:open is:awaiting")
        assert app.inbox.thread_list.numbers == expected
        first = app.inbox.thread_list.current_row()
        assert first is not None and first.unread
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.focused is app.inbox.thread_view
        detail = app.inbox.thread_view.detail
        assert detail is not None and detail.thread.number == expected[0]
        row = inbox.gateway.row(expected[0])
        assert row is not None and not row.unread  # seen on an explicit open


async def test_reply_goes_through_the_outbox_and_reaches_the_customer(inbox: Inbox) -> None:
    target = open_dm(inbox.gateway)
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, target.thread.number)
        await pilot.press("r")
        await settle(pilot, app)
        assert app.inbox.compose_box.is_open
        await fill(pilot, app, "Thanks, it ships today")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        sent = inbox.sandbox.deliveries(inbox.page_id, target.thread.customer.id)
        assert [d.text for d in sent] == ["Thanks, it ships today"]
        assert sent[0].messaging_type == "RESPONSE" and sent[0].tag is None
        status = str(app.inbox.compose_box.status.render())
        assert "sent" in status
        detail = inbox.gateway.thread(target.thread.number)
        echoed = [m.text for m in detail.messages if m.id in detail.echoed]
        assert echoed == ["Thanks, it ships today"]
        assert app.focused is app.inbox.thread_list  # so the next key is a command again


async def test_private_reply_names_the_comment_and_uses_the_ledger(inbox: Inbox) -> None:
    target = private_comment(inbox.gateway)
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, target.thread.number)
        await pilot.press("p")
        await settle(pilot, app)
        head = str(app.inbox.compose_box.head.render())
        assert "Private reply" in head and "answering their comment" in head
        await fill(pilot, app, "Sent you the price")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        sent = [d for d in inbox.sandbox.deliveries(inbox.page_id) if d.comment_id]
        assert [(d.comment_id, d.text) for d in sent] == [(target.thread.id, "Sent you the price")]
        # The one private reply is used: a second one is refused before any call.
        await pilot.press("escape", "p")
        await settle(pilot, app)
        await fill(pilot, app, "again")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert len([d for d in inbox.sandbox.deliveries(inbox.page_id) if d.comment_id]) == 1
        assert "already used" in str(app.inbox.compose_box.status.render())


async def test_private_reply_is_not_offered_on_a_dm(inbox: Inbox) -> None:
    target = open_dm(inbox.gateway)
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, target.thread.number)
        await pilot.press("p")
        await settle(pilot, app)
        assert not app.inbox.compose_box.is_open


async def test_done_marks_done_and_moves_to_the_next_thread(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first, second = app.inbox.thread_list.numbers[:2]
        await pilot.press("e")
        await settle(pilot, app)
        assert _status(inbox, first) is Status.DONE
        assert first not in app.inbox.thread_list.numbers
        assert app.inbox.thread_list.current_number == second


async def test_undo_restores_the_thread_and_stats_do_not_count_the_done(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = app.inbox.thread_list.numbers[0]
        thread_id = inbox.gateway.resolve(f"#{first}").thread.id
        await pilot.press("e")
        await settle(pilot, app)
        assert _log_actions(inbox, thread_id) == ["done"]
        await pilot.press("u")
        await settle(pilot, app)
        assert _status(inbox, first) is Status.OPEN
        assert _log_actions(inbox, thread_id) == []
        assert app.inbox.thread_list.current_number == first
        assert inbox.gateway.stats().days[-1].total.done == 0


async def test_snooze_with_a_preset(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first, second = app.inbox.thread_list.numbers[:2]
        await pilot.press("z")
        await settle(pilot, app)
        # Enter takes the highlighted preset; a second Enter before the prompt is gone must
        # not close the inbox under it.
        await pilot.press("enter", "enter")
        await settle(pilot, app)
        th = inbox.gateway.resolve(f"#{first}").thread
        assert th.status is Status.SNOOZED and th.snoozed_until == NOW + timedelta(hours=1)
        assert first not in app.inbox.thread_list.numbers
        assert app.screen is app.inbox
        # In the presets, a number picks one and never reaches the inbox (1-9 switch views).
        await select(pilot, app, second)
        await pilot.press("z", "down", "2")
        await settle(pilot, app)
        th = inbox.gateway.resolve(f"#{second}").thread
        assert th.status is Status.SNOOZED and th.snoozed_until == NOW + timedelta(hours=3)
        assert app.screen is app.inbox and app.inbox.view.key == "awaiting"


async def test_a_prompt_answered_twice_closes_once(inbox: Inbox) -> None:
    """Two answers faster than a frame (z Enter Enter, t Enter Enter in a real terminal): the
    prompt closes once and the inbox under it stays (Textual's dismiss pops the top screen)."""
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        for key in ("z", "t", "question_mark"):
            await pilot.press(key)
            await settle(pilot, app)
            prompt = app.screen
            assert prompt is not app.inbox
            prompt.dismiss(None)
            prompt.dismiss(None)
            await settle(pilot, app)
            assert app.screen is app.inbox, key


async def test_snooze_with_a_typed_time_shows_errors_live(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = app.inbox.thread_list.numbers[0]
        await pilot.press("z")
        await fill(pilot, app, "soonish")
        await settle(pilot, app)
        assert "cannot read" in str(app.screen.query_one("#snooze-error").render())
        await clear(pilot, app)
        await fill(pilot, app, "2h")
        await pilot.press("enter")
        await settle(pilot, app)
        th = inbox.gateway.resolve(f"#{first}").thread
        assert th.status is Status.SNOOZED and th.snoozed_until == NOW + timedelta(hours=2)
        # The "h" of "2h" went into the box: no hide prompt opened over the inbox.
        assert app.screen is app.inbox
        # Said as `socialdesk snooze` says it: when it wakes, and that its window closes first.
        said = [n.message for n in app._notifications]
        assert any("until " in m and f"#{first}" in m for m in said), said
        assert any("after its reply" in m for m in said), said


async def test_tag_adds_and_removes_and_the_tag_view_appears(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = app.inbox.thread_list.numbers[0]
        await pilot.press("t")
        await fill(pilot, app, "+vip refund")
        await pilot.press("enter")
        await settle(pilot, app)
        assert inbox.gateway.resolve(f"#{first}").thread.tags == ("refund", "vip")
        assert "tag:vip" in [v.key for v in app.inbox.views]
        await pilot.press("t")
        await fill(pilot, app, "-refund")
        await pilot.press("enter")
        await settle(pilot, app)
        assert inbox.gateway.resolve(f"#{first}").thread.tags == ("vip",)


async def test_note_is_saved(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = app.inbox.thread_list.numbers[0]
        await pilot.press("n")
        await fill(pilot, app, "call back after 5")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert inbox.gateway.resolve(f"#{first}").thread.note == "call back after 5"


async def test_hide_asks_then_hides_on_facebook(inbox: Inbox) -> None:
    target = private_comment(inbox.gateway)
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, target.thread.number)
        await pilot.press("h")
        await settle(pilot, app)
        await pilot.press("n")  # declined: nothing happens
        await settle(pilot, app)
        assert not inbox.sandbox.comment(target.thread.id).is_hidden
        await pilot.press("h")
        await settle(pilot, app)
        await pilot.press("y")
        await settle(pilot, app)
        assert inbox.sandbox.comment(target.thread.id).is_hidden
        assert inbox.gateway.resolve(target.thread.id).thread.is_hidden
        await pilot.press("u")  # undo is the opposite call
        await settle(pilot, app)
        assert not inbox.sandbox.comment(target.thread.id).is_hidden


async def test_search_shows_errors_live_and_lists_matches(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        await fill(pilot, app, "is:nonsense")
        await settle(pilot, app)
        error = str(app.inbox.search_error.render())
        assert "^" in error
        await clear(pilot, app)
        await fill(pilot, app, "is:comment")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.inbox.thread_list.numbers == inbox.gateway.thread_numbers("is:comment")
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.inbox.search is None


async def test_number_keys_switch_views(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("e")  # one done thread, so the Done view is not empty
        await settle(pilot, app)
        await pilot.press("4")
        await settle(pilot, app)
        assert app.inbox.view.key == "done"
        assert app.inbox.thread_list.numbers == inbox.gateway.thread_numbers("is:done")
        assert len(app.inbox.thread_list.numbers) == 1
        await pilot.press("5")
        await settle(pilot, app)
        assert app.inbox.thread_list.numbers == inbox.gateway.thread_numbers("")


async def test_sync_now_adds_new_threads_without_moving_the_cursor(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("j", "j")
        await settle(pilot, app)
        before = app.inbox.thread_list.current_number
        row_on_screen = app.inbox.thread_list.cursor - app.inbox.thread_list.scroll_offset.y
        user = inbox.sandbox.add_user("Nina Newcomer")
        inbox.sandbox.add_message(inbox.page_id, user, "hello, new here", at=NOW)
        calls = inbox.sandbox.calls
        await pilot.press("s")
        await settle(pilot, app, rounds=5)
        assert inbox.sandbox.calls > calls
        names = [
            r.thread.customer.name
            for r in inbox.gateway.rows_by_number(app.inbox.thread_list.numbers)
        ]
        assert "Nina Newcomer" in names
        tl = app.inbox.thread_list
        assert tl.current_number == before
        assert tl.cursor - tl.scroll_offset.y == row_on_screen


async def test_sync_failure_shows_in_the_header_not_a_crash(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        for token in list(inbox.sandbox.state.tokens):
            inbox.sandbox.invalidate_token(token)
        await pilot.press("s")
        await settle(pilot, app, rounds=5)
        assert app.inbox.header.problem is not None
        assert app.sync_stopped  # an invalid token stops the polling until the operator acts
        assert app.is_running


async def test_closed_window_disables_sending_and_says_why(inbox: Inbox) -> None:
    target = closed_dm(inbox.gateway)
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, target.thread.number)
        await pilot.press("r")
        await settle(pilot, app)
        await fill(pilot, app, "late answer")
        await settle(pilot, app)
        assert "sending disabled" in str(app.inbox.compose_box.status.render())
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert inbox.sandbox.deliveries(inbox.page_id, target.thread.customer.id) == []
        assert "closed" in str(app.inbox.compose_box.status.render())


async def test_editor_compose_uses_a_private_temp_file(
    inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "mode"
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import os, stat, sys\n"
        f"open({str(seen)!r}, 'w').write(oct(stat.S_IMODE(os.stat(sys.argv[1]).st_mode)))\n"
        "text = open(sys.argv[1]).read()\n"
        "open(sys.argv[1], 'w').write(text + ' from the editor')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    target = open_dm(inbox.gateway)
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, target.thread.number)
        await pilot.press("r")
        await fill(pilot, app, "Written")
        await pilot.press("ctrl+e")
        await settle(pilot, app)
        assert app.inbox.compose_box.text == "Written from the editor"
        assert seen.read_text() == oct(stat.S_IRUSR | stat.S_IWUSR)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        sent = inbox.sandbox.deliveries(inbox.page_id, target.thread.customer.id)
        assert [d.text for d in sent] == ["Written from the editor"]


async def test_letters_typed_in_the_compose_box_never_run_commands(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = app.inbox.thread_list.numbers[0]
        await pilot.press("r")
        await type_text(pilot, "eqzstuh/1")
        await settle(pilot, app)
        assert app.is_running
        assert app.inbox.compose_box.text == "eqzstuh/1"
        assert _status(inbox, first) is Status.OPEN
        assert not isinstance(app.screen, HelpScreen)


async def test_quit_with_a_draft_asks_first(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("r")
        await fill(pilot, app, "half written")
        await pilot.press("escape", "q")
        await settle(pilot, app)
        assert app.is_running and "unsent" in str(app.screen.query("Static").first().render())
        await pilot.press("n")
        await settle(pilot, app)
        assert app.is_running
        await pilot.press("q", "y")
        await settle(pilot, app)
    assert not app.is_running


async def test_keys_remapped_in_config_work_and_show_in_help(inbox: Inbox) -> None:
    app = _app(inbox, keymap={"done": "d"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = app.inbox.thread_list.numbers[0]
        await pilot.press("d")
        await settle(pilot, app)
        assert _status(inbox, first) is Status.DONE
        await pilot.press("question_mark")
        await settle(pilot, app)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("Static").render())
        assert "Mark done and move to the next thread" in text
        line = next(x for x in text.splitlines() if "Mark done" in x)
        assert line.strip().startswith("d ")


async def test_templates_fill_in_the_customer_name(isolated_home: Path) -> None:
    from socialdesk.config import Config

    from .conftest import make_inbox

    cfg = Config(templates={"thanks": ("Thanks {first_name}, on it!",)})
    box = make_inbox(isolated_home, config=cfg)
    try:
        target = open_dm(box.gateway)
        app = _app(box)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, app)
            await select(pilot, app, target.thread.number)
            await pilot.press("r", "ctrl+t")
            await settle(pilot, app)
            await pilot.press("enter")
            await settle(pilot, app)
            first = target.thread.customer.name.split()[0]
            assert app.inbox.compose_box.text == f"Thanks {first}, on it!"
    finally:
        box.gateway.close()


async def test_stats_screen_loads_in_a_worker(inbox: Inbox) -> None:
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("S")
        await settle(pilot, app)
        assert isinstance(app.screen, StatsScreen)
        body = str(app.screen.query_one("#stats-body").render())
        assert "To earn the badge" in body and "Response rate" in body  # 67 %: not earned
        await pilot.press("escape")
        await settle(pilot, app)
        assert not isinstance(app.screen, StatsScreen)


async def test_older_messages_load_on_demand(inbox: Inbox) -> None:
    target = open_dm(inbox.gateway)
    for i in range(60):
        inbox.sandbox.add_message(
            inbox.page_id,
            target.thread.customer.id,
            f"filler {i}",
            at=NOW - timedelta(minutes=60 - i),
        )
    inbox.gateway.sync_round()
    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await select(pilot, app, target.thread.number)
        detail = app.inbox.thread_view.detail
        assert detail is not None and detail.has_older and len(detail.messages) == 50
        await pilot.press("left_square_bracket")
        await settle(pilot, app)
        detail = app.inbox.thread_view.detail
        assert detail is not None and len(detail.messages) > 50


async def test_keys_typed_right_after_r_land_in_the_box(inbox: Inbox) -> None:
    """A burst (r then text, faster than the box takes the focus) never runs commands."""
    from textual import events

    app = _app(inbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        first = app.inbox.thread_list.numbers[0]
        for ch in "rHej eqzs":
            app.post_message(events.Key("space" if ch == " " else ch, ch))
        await settle(pilot, app)
        assert app.is_running
        assert app.inbox.compose_box.text == "Hej eqzs"
        assert _status(inbox, first) is Status.OPEN
