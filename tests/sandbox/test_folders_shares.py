"""Conversation folders (inbox by default; page_done, other, spam on request) and shares that
need their sub-fields asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import NOW, World, error_of


def conv_ids(w: World, **params: str) -> list[str]:
    """The conversation ids a listing returns."""
    return [c["id"] for c in w.get(f"/{w.page}/conversations", **params).json()["data"]]


@pytest.mark.parametrize("folder", ["page_done", "other", "spam"])
def test_default_listing_is_the_inbox_only(world: World, folder: str) -> None:
    """A thread filed elsewhere leaves the default listing and shows under its folder."""
    bob_conv = world.sb.conversation_id(world.page, world.bob)
    world.sb.set_folder(world.page, world.bob, folder)
    assert bob_conv not in conv_ids(world)
    assert conv_ids(world, folder=folder) == [bob_conv]
    assert bob_conv not in conv_ids(world, folder="inbox")
    assert world.get(f"/{bob_conv}", fields="folder").json()["folder"] == folder
    # A lookup by user_id finds the thread wherever it is filed.
    assert conv_ids(world, user_id=world.bob) == [bob_conv]


def test_inbox_folder_and_unknown_folder(world: World) -> None:
    """folder=inbox equals the default; an unknown folder is code 100."""
    assert conv_ids(world, folder="inbox") == conv_ids(world)
    err = error_of(world.get(f"/{world.page}/conversations", folder="archived"))
    assert err["code"] == 100 and "page_done" in err["message"]
    with pytest.raises(ValueError):
        world.sb.set_folder(world.page, world.bob, "archived")


def test_a_new_message_reopens_done_but_not_spam(world: World) -> None:
    """A customer writing again takes a Done thread back to the inbox; spam stays spam."""
    world.sb.set_folder(world.page, world.bob, "page_done")
    world.sb.set_folder(world.page, world.alice, "spam")
    world.sb.add_message(world.page, world.bob, "one more question", at=NOW - timedelta(minutes=1))
    world.sb.add_message(world.page, world.alice, "buy followers", at=NOW)
    assert conv_ids(world) == [world.sb.conversation_id(world.page, world.bob)]
    assert conv_ids(world, folder="spam") == [world.sb.conversation_id(world.page, world.alice)]


def test_shares_need_their_sub_fields(world: World) -> None:
    """`shares` alone gives ids only; shares{link,name,description} gives the share."""
    share = {"link": "https://shop/x", "name": "X", "description": "Wool"}
    mid = world.sb.add_message(world.page, world.alice, "look", shares=[share])
    bare = world.get(f"/{mid}", fields="shares").json()["shares"]["data"]
    assert len(bare) == 1 and set(bare[0]) == {"id"}
    full = world.get(f"/{mid}", fields="shares{link,name,description}").json()["shares"]["data"]
    assert full == [share]
    nested = world.get(
        f"/{world.page}/conversations",
        user_id=world.alice,
        fields="messages.limit(1){shares}",
    ).json()["data"][0]["messages"]["data"][0]
    assert set(nested["shares"]["data"][0]) == {"id"}
