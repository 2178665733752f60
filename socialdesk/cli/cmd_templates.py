"""``socialdesk templates`` (list), ``templates show NAME``, ``templates add NAME TEXT...``.

Registered on the root app as a command group. Templates live in the config file
(``[templates.NAME] text = [variants...]``); ``add`` validates the name and placeholders and
writes the config through ``config.update_config`` (atomic, 0600).
"""

from __future__ import annotations

from typing import Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.cmd_reply import JsonOpt, echo_line

templates_app = typer.Typer(
    name="templates",
    help="Saved replies: list them, show one, add one.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(templates_app)


@templates_app.callback()
def templates(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the templates with their first variant."""
    if ctx.invoked_subcommand is not None:
        return
    from socialdesk.config import load_config
    from socialdesk.paths import resolve_paths
    from socialdesk.sanitize import clean

    cfg = load_config(resolve_paths())
    if as_json:
        from socialdesk.cli.output import print_json

        print_json([{"name": n, "variants": list(v)} for n, v in sorted(cfg.templates.items())])
        return
    if not cfg.templates:
        echo_line("no templates yet; add one with `socialdesk templates add NAME TEXT...`")
        return
    for name, variants in sorted(cfg.templates.items()):
        first = clean(variants[0], single_line=True) if variants else ""
        more = f" (+{len(variants) - 1} variants)" if len(variants) > 1 else ""
        echo_line(f"{name}: {first}{more}")


@templates_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The template's name.")], as_json: JsonOpt = False
) -> None:
    """Show every variant of one template."""
    from socialdesk.config import load_config
    from socialdesk.core.templates import get_template
    from socialdesk.paths import resolve_paths
    from socialdesk.sanitize import clean

    tpl = get_template(load_config(resolve_paths()).templates, name)
    if as_json:
        from socialdesk.cli.output import print_json

        print_json({"name": tpl.name, "variants": list(tpl.variants)})
        return
    for i, v in enumerate(tpl.variants, 1):
        echo_line(f"{i}. {clean(v, single_line=True)}")


@templates_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The template's name.")],
    texts: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT...",
            help="One or more variants; placeholders {first_name} {name} {page}.",
        ),
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace an existing template of that name.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a template (several TEXTs are variants, rotated per customer)."""
    from socialdesk.config import update_config
    from socialdesk.core.templates import validate_name, validate_text
    from socialdesk.errors import UsageError
    from socialdesk.paths import resolve_paths

    validate_name(name)
    for i, t in enumerate(texts, 1):
        validate_text(t, where=f"variant {i}")
    paths = resolve_paths()
    with update_config(paths) as editor:
        if name in editor.config.templates and not replace:
            raise UsageError(
                f"a template named {name!r} exists", hint="pass --replace to overwrite it"
            )
        editor.config = editor.config.with_template(name, tuple(texts))
    if as_json:
        from socialdesk.cli.output import print_json

        print_json({"name": name, "variants": list(texts)})
        return
    echo_line(f"template {name} saved ({len(texts)} variant{'s' if len(texts) > 1 else ''})")
