"""What a run leaves behind, as read by both ``sim.sweep`` and ``sim.collect``: the failure marker
and the figures derived from a finished run's summary. Both modules import this one, so neither
imports the other at module level (config → market → run → outputs → collect, top-down)."""
from __future__ import annotations

FAILED = "failed.json"   # written into a run directory whose run failed; such a run never counts as finished


def clv_change(summary: dict) -> float | None:
    """Mean CLV change against the paired no-action control (None without a control)."""
    p = summary.get("paired") or {}
    return summary["mean_clv"] - p["control_mean_clv"] if p.get("control_mean_clv") is not None else None


def budget_and_spend(summary: dict) -> dict[str, float]:
    """The firm's strategies' total ``budget`` and ``spend`` in a run (currency), and what was left
    ``unspent``; market events (which spend nothing) count with budget 0."""
    sts = (summary.get("strategies") or {}).values()
    budget = float(sum(float(s.get("budget") or 0.0) for s in sts))
    spend = float(sum(float(s.get("spend") or 0.0) for s in sts))
    return {"budget": budget, "spend": spend, "unspent": budget - spend}
