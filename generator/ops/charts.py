"""Charts of `slokit report --format html`, drawn with matplotlib and embedded as base64 PNG."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone

DAY = 86400


def _png(fig) -> str:
    buf = io.BytesIO()
    # No Software/date metadata: the same report data gives the same bytes.
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _days(ends) -> list[datetime]:
    return [datetime.fromtimestamp(t - DAY, timezone.utc) for t in ends]


def _figure(rows: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, 1, figsize=(8, 2.6 * rows), squeeze=False)
    return fig, [a[0] for a in axes]


def sli_chart(slo) -> str:
    """Daily SLI against the objective, and the period's error budget burning down."""
    fig, (sli_ax, budget_ax) = _figure(2)
    days = _days([d.end for d in slo.days])
    sli = [100 * (1 - d.bad / d.total) if d.total else float("nan") for d in slo.days]
    sli_ax.plot(days, sli, marker="o", label="SLI per day")
    sli_ax.axhline(100 * slo.objective, color="red", linestyle="--", label=f"objective {100 * slo.objective:g}%")
    sli_ax.set_ylabel("good events %")
    sli_ax.set_title(f"{slo.service}/{slo.slo}")
    sli_ax.legend(loc="lower left", fontsize="small")
    total = sum(d.total for d in slo.days)
    allowed = slo.error_budget * total
    spent, left = 0.0, []
    for d in slo.days:
        spent += d.bad
        left.append(100 * (1 - spent / allowed) if allowed else float("nan"))
    budget_ax.plot(days, left, color="tab:orange", label="error budget left (of the period's)")
    budget_ax.axhline(0, color="grey", linewidth=0.8)
    budget_ax.set_ylabel("budget left %")
    budget_ax.legend(loc="lower left", fontsize="small")
    fig.autofmt_xdate()
    return _png(fig)


def budget_chart(budget) -> str:
    """Spend per day against the limit pro rata per day."""
    fig, (ax,) = _figure(1)
    days = _days([t for t, _v in budget.days])
    ax.bar(days, [v for _t, v in budget.days], label=f"{budget.unit} per day")
    per_day = budget.limit * DAY / _window_seconds(budget.window)
    ax.axhline(per_day, color="red", linestyle="--", label=f"limit per day ({per_day:.4g} {budget.unit})")
    ax.set_title(f"{budget.service}/{budget.budget}: spend per day")
    ax.legend(loc="upper left", fontsize="small")
    fig.autofmt_xdate()
    return _png(fig)


def _window_seconds(window: str) -> int:
    from slokit.model import duration_seconds

    return duration_seconds(window)
