"""Command-line arguments that form a query: ``-tag:vip`` is a negated term, not an option.

Called by ``list``, ``count`` and ``tag --query``. Click would read ``-tag:vip`` as the short
options ``-t -a -g …``; :class:`QueryCommand` moves every argument that is not one of the
command's own options (or an option's value) behind a ``--`` before parsing, in its original
order, so ``socialdesk list is:dm -tag:vip --limit 5`` just works. An unknown ``--long`` option
stays an option, so a typo is still reported as one.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

QUERY_HELP = """Queries (also for ack and saved views): is:dm is:comment is:open is:done
is:snoozed is:awaiting is:hidden, Instagram: is:ig is:ig_dm is:ig_comment is:gap,
tag:NAME, from:NAME, older:2h, newer:3d, expires:<2h (expires:>1d), page:NAME,
view:NAME (a saved [views] query), words and "quoted phrases" (message text).
Terms side by side are ANDed; a OR b;
-term or NOT term negates; parentheses group: (tag:a OR tag:b) -is:done.
OR binds tighter than the implicit AND. No quoting needed except for phrases,
operators and parentheses: socialdesk list is:dm -tag:acked."""
"""The query language in a few lines (``list --help`` and friends)."""


class QueryCommand(TyperCommand):
    """A command whose free arguments are query words (see the module docstring)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # Typer vendors click privately: options are recognised by duck typing, not isinstance.
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if getattr(param, "param_type_name", "") == "option":
                for name in (*param.opts, *param.secondary_opts):
                    flag = getattr(param, "is_flag", False) or getattr(param, "count", False)
                    takes_value[name] = not flag
        options: list[str] = []
        terms: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                terms.extend(args[i + 1 :])
                break
            name = arg.split("=", 1)[0]
            if name in takes_value or arg.startswith("--"):
                # Known options, and unknown long ones (click then names them): never a term.
                options.append(arg)
                if takes_value.get(name) and "=" not in arg and i + 1 < len(args):
                    options.append(args[i + 1])
                    i += 1
            else:
                terms.append(arg)
            i += 1
        return super().parse_args(ctx, [*options, "--", *terms] if terms else options)
