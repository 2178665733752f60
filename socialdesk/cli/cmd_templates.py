"""``socialdesk templates`` (list), ``templates show NAME``, ``templates add NAME TEXT...``.

Registered on the root app as a command group. Templates live in the config file
(``[templates.NAME] text = [variants...]``); ``add`` validates the name and placeholders
(``core.templates``) and writes the config through ``config.update_config`` (atomic, 0600).
"""

from __future__ import annotations

from typing import Annotated

import typer

from socialdesk.cli.app import app
from socialdesk.cli.common import JsonOpt, echo_line, open_context

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
    from socialdesk.cli import output, views
    from socialdesk.format import plural
    from socialdesk.sanitize import clean

    found = sorted(open_context().config.templates.items())
    if as_json:
        output.print_json([views.template(n, v) for n, v in found])
        return
    if not found:
        echo_line("no templates yet; add one with `socialdesk templates add NAME TEXT...`")
        return
    for name, variants in found:
        first = clean(variants[0], single_line=True) if variants else ""
        more = f" (+{plural(len(variants) - 1, 'variant')})" if len(variants) > 1 else ""
        echo_line(f"{name}: {first}{more}")


@templates_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The template's name.")], as_json: JsonOpt = False
) -> None:
    """Show every variant of one template."""
    from socialdesk.cli import output, views
    from socialdesk.core.templates import get_template
    from socialdesk.sanitize import clean

    tpl = get_template(open_context().config.templates, name)
    if as_json:
        output.print_json(views.template(tpl.name, tpl.variants))
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
    from socialdesk.cli import output, views
    from socialdesk.core.templates import add_template
    from socialdesk.format import plural

    add_template(open_context().paths, name, texts, replace=replace)
    if as_json:
        output.print_json(views.template(name, texts))
        return
    echo_line(f"template {name} saved ({plural(len(texts), 'variant')})")
