"""``socialdesk demo`` without its rate limit, for tests whose subject is not pacing.

The demo serves a rate-limited sandbox (2 conversation calls/s, as Meta) and its client spaces
those calls 0.6 s apart, so a demo's first sync sleeps ~2 s for ~0.3 s of work. Tests of home
handling, refusal, the first screen or the terminal path switch both off *together*: the demo's
sandbox is built without its limit and only then does its home's client go unpaced, so the
client never assumes a sandbox laxer than the one it talks to. Tests of the real, paced demo
run ``python -m socialdesk demo`` unchanged (tests/cli/test_demo.py says which).

:func:`unpace_demo` patches the current process (with a ``MonkeyPatch``, undone after the test);
:data:`UNPACED_DEMO_CLI` is ``python -c`` code running the real entry point
(``socialdesk.launch.main``) in a subprocess with the same two patches, for tmux and for
``sys.modules`` checks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

REPO = Path(__file__).resolve().parents[2]

SetAttr = Callable[[object, str, Any], None]


def _install(setattr: SetAttr) -> None:
    import socialdesk.cli.cmd_demo as cmd_demo
    import socialdesk.sandbox as sandbox_pkg
    from socialdesk.core.session import Session
    from socialdesk.sandbox import Sandbox

    build_demo = sandbox_pkg.build_demo
    setup_home = cmd_demo._setup_home
    built: list[Sandbox] = []

    def unlimited_build_demo(*args: Any, **kwargs: Any) -> tuple[Sandbox, str, str]:
        kwargs["rate_limit"] = False
        sandbox, page_id, token = build_demo(*args, **kwargs)
        built.append(sandbox)
        return sandbox, page_id, token

    def unpaced_setup_home(*args: Any, **kwargs: Any) -> Session:
        # Unpaced only against the sandbox just built without its limit (never a paced one).
        assert built and not built[-1].rate_limit, "the demo's sandbox is still rate-limited"
        session = setup_home(*args, **kwargs)
        session.ctx.pace = False  # read when the context hands out its Graph clients
        return session

    # cmd_demo imports build_demo from socialdesk.sandbox inside the command, at each run.
    setattr(sandbox_pkg, "build_demo", unlimited_build_demo)
    setattr(cmd_demo, "_setup_home", unpaced_setup_home)


def unpace_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """For this test, ``socialdesk demo`` run in-process serves an unlimited sandbox and its
    client does not pace (undone by ``monkeypatch`` after the test)."""
    _install(monkeypatch.setattr)


def install_in_this_process() -> None:
    """:func:`unpace_demo` for a whole subprocess (see :data:`UNPACED_DEMO_CLI`)."""
    _install(setattr)


UNPACED_DEMO_CLI = (
    "import sys\n"
    f"sys.path.insert(0, {str(REPO)!r})\n"
    "from tests.support.demo import install_in_this_process\n"
    "install_in_this_process()\n"
    "from socialdesk.launch import main\n"
    "sys.argv[0] = 'socialdesk'\n"
    "main()\n"
)
"""``python -c`` code: ``python -m socialdesk ARGS`` with the demo's rate limit and pacing off."""
