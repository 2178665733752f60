"""The stats screen: the last 30 days as charts that read at 80 columns, backlog and badge.

Pushed by ``S`` and the palette. The report (``core.stats.compute_stats``, 0.5-1.3 s over a
million messages) is computed by the loader the inbox passes in, in a thread worker, while a
loading indicator shows; the screen draws it with :mod:`socialdesk.tui.charts`: response rate
within 24 h, median first response time, requests per day and the backlog at the end of each
day, then the badge estimate and the sentence "to keep (or earn) the badge: …".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Footer, LoadingIndicator, Static

from socialdesk.errors import SocialdeskError
from socialdesk.tui.charts import bar_rows, nice_top
from socialdesk.tui.messages import StatsLoaded
from socialdesk.tui.screens.once import OnceScreen
from socialdesk.tui.text import customer, plain

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from socialdesk.core.stats import StatsReport


def _minutes(seconds: int | None) -> float | None:
    return None if seconds is None else seconds / 60


def _fmt_min(seconds: int | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    return f"{seconds / 3600:.1f} h"


def chart(
    title: str,
    values: Sequence[float | None],
    width: int,
    *,
    top: float | None = None,
    unit: str = "",
    good: Callable[[float], bool] | None = None,
    height: int = 4,
) -> list[Content]:
    """A titled bar chart: axis labels on the left, one or two columns per day."""
    axis = nice_top(values) if top is None else top
    label_w = 6
    cell = 2 if width - label_w - 2 >= 2 * len(values) else 1
    rows = bar_rows(values, height, axis, cell)
    out = [plain(title, "bold")]
    for i, row in enumerate(rows):
        label = f"{axis:g}{unit}" if i == 0 else (f"0{unit}" if i == height - 1 else "")
        pieces: list[Content] = [plain(label.rjust(label_w) + " ┤", "$text-muted")]
        if good is None:
            pieces.append(plain(row, "$accent"))
        else:
            for j, v in enumerate(values):
                seg = row[j * cell : (j + 1) * cell]
                style = "$text-muted" if v is None else "$success" if good(v) else "$error"
                pieces.append(plain(seg, style))
        out.append(Content.assemble(*pieces))
    return out


def stats_content(report: StatsReport, width: int, height: int) -> Content:
    """The whole screen's text for ``report`` at this terminal size."""
    days = list(report.days)
    bar_h = 3 if height < 30 else 5
    rate = [None if d.total.response_rate is None else d.total.response_rate * 100 for d in days]
    median = [_minutes(d.total.median_s) for d in days]
    requests = [float(d.total.requests) for d in days]
    backlog = [float(d.total.backlog) for d in days]
    b = report.badge
    first, last = days[0].day.isoformat(), days[-1].day.isoformat()
    synced = (
        f"last sync {report.last_sync_at.strftime('%Y-%m-%d %H:%M')} UTC"
        if report.last_sync_at
        else "never synced"
    )
    lines: list[Content] = [
        plain(f"Last 30 days ({first} … {last}, {report.timezone}) · {synced}", "bold"),
    ]
    if b.rate is not None:
        badge = (
            f"Badge estimate (DMs, 7 days): {b.rate * 100:.0f}% answered, median "
            f"{_fmt_min(b.median_response_s)} — {'earned' if b.earned else 'not earned'}"
        )
    else:
        badge = "Badge estimate (DMs, 7 days): no requests yet"
    lines.append(plain(badge, "$success" if b.earned else "$warning"))
    goal = "To keep the badge: " if b.earned else "To earn the badge: "
    lines.append(Content.assemble(plain(goal, "bold"), plain(b.to_keep.sentence(earned=b.earned))))
    today = days[-1].total
    lines.append(
        plain(
            f"Backlog now: {today.backlog} awaiting reply · today {today.requests} requests, "
            f"{today.responded} answered"
        )
    )
    lines.append(plain(""))
    lines += chart(
        "Response rate within 24 h (%) — green ≥ 90 %",
        rate,
        width,
        top=100,
        good=lambda v: v >= 90,
        height=bar_h,
    )
    lines += chart(
        "Median first response (min) — green ≤ 15 min",
        median,
        width,
        unit="",
        good=lambda v: v <= 15,
        height=bar_h,
    )
    lines += chart("Requests per day", requests, width, height=bar_h)
    lines += chart("Backlog at the end of each day", backlog, width, height=bar_h)
    cell = 2 if width - 8 >= 2 * len(days) else 1
    span = len(days) * cell
    axis = first[5:] + last[5:].rjust(max(0, span - 5))
    lines.append(plain(" " * 8 + axis, "$text-muted"))
    return Content("\n").join(lines)


class StatsScreen(OnceScreen[None]):
    """Response statistics (esc or q goes back)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,S", "back", "Back"),
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    StatsScreen > VerticalScroll { padding: 0 1; }
    StatsScreen LoadingIndicator { height: 3; }
    """

    def __init__(self, load: Callable[[], StatsReport]) -> None:
        super().__init__()
        self._load = load
        self.report: StatsReport | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(plain("Loading the last 30 days…", "$text-muted"), id="stats-body")
            yield LoadingIndicator(id="stats-loading")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#stats-loading").display = True
        self._compute()

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def _compute(self) -> None:
        try:
            report = self._load()
        except SocialdeskError as exc:
            self.post_message(StatsLoaded(None, exc.message))
            return
        self.post_message(StatsLoaded(report))

    def on_stats_loaded(self, message: StatsLoaded) -> None:
        self.query_one("#stats-loading").display = False
        body = self.query_one("#stats-body", Static)
        if message.report is None:
            body.update(
                Content.assemble(plain("Stats failed: ", "bold $error"), customer(message.error))
            )
            return
        self.report = message.report
        self._draw()

    def on_resize(self) -> None:
        if self.report is not None:
            self._draw()

    def _draw(self) -> None:
        if self.report is None:
            return
        size = self.app.size
        self.query_one("#stats-body", Static).update(
            stats_content(self.report, size.width - 2, size.height)
        )

    def action_back(self) -> None:
        self.dismiss(None)
