"""Screens that close once: the base of the inbox's prompts, help and stats screens.

Textual's ``Screen.dismiss`` pops whatever screen is on top. A second Enter or Escape pressed
before a prompt is gone (``z Enter Enter``, ``t Enter Enter``) would pop the inbox under it
and leave a blank app; these screens ignore every dismissal after the first, and any while
another screen is on top of them.
"""

from __future__ import annotations

from typing import TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen, Screen

R = TypeVar("R")

__all__ = ["OnceModalScreen", "OnceScreen"]


class OnceScreen(Screen[R]):
    """A screen whose ``dismiss`` acts once (see the module docstring)."""

    _dismissed = False

    def dismiss(self, result: R | None = None) -> AwaitComplete:
        if self._dismissed or self.app.screen is not self:
            return AwaitComplete()
        self._dismissed = True
        return super().dismiss(result)


class OnceModalScreen(ModalScreen[R]):
    """A modal screen whose ``dismiss`` acts once (see the module docstring)."""

    _dismissed = False

    def dismiss(self, result: R | None = None) -> AwaitComplete:
        if self._dismissed or self.app.screen is not self:
            return AwaitComplete()
        self._dismissed = True
        return super().dismiss(result)
