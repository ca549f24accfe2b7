"""How figures are shown to people: thousands separators, currency, percentages, and what each
metric means (the glossary printed on the comparison page).

Nothing here converts money: ``currency`` is a label (``output.currency``, an ISO 4217 code) for the
unit every money figure of the config is already in.
"""
from __future__ import annotations

import math

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥"}

#: metric → kind of unit: money (currency), pct (a share shown as %), pp (a change in a share,
#: percentage points), ratio (ROI shown as %), count
UNITS: dict[str, str] = {
    "incremental_net_profit": "money", "incremental_profit": "money", "incremental_revenue": "money",
    "strategy_cost": "money", "profit": "money", "revenue": "money", "mean_clv": "money", "clv_change": "money",
    "total_clv": "money", "control_profit": "money", "control_mean_clv": "money", "marketing_spend": "money",
    "spend": "money", "budget": "money", "unspent": "money", "gross_margin": "money",
    "roi_vs_control": "ratio", "roi": "ratio",
    "churn_rate_annual": "pct", "control_churn_rate_annual": "pct", "top20_revenue_share": "pct",
    "p_best": "pct", "churn_rate_change": "pp",
    "customers_end": "count", "customers_end_change": "count", "n_customers": "count", "n": "count",
    "market_share": "pct", "control_market_share": "pct", "share_of_wallet": "pct", "market_share_change": "pp",
    "rival_profit": "money", "rival_profit_change": "money",
}

#: metric → (short label, definition); every metric the comparison page shows is here
GLOSSARY: dict[str, tuple[str, str]] = {
    "incremental_net_profit": (
        "incremental net profit",
        "Profit of the run minus the profit of its own no-action control (same customers, same random "
        "numbers, no firm strategies), after paying for the strategies: incremental profit − strategy cost."),
    "incremental_profit": (
        "incremental profit before strategy cost",
        "Gross margin − service cost of the run minus the control's profit: what the strategies earned "
        "before their own cost."),
    "strategy_cost": (
        "strategy cost",
        "Marketing spend of the run minus that of the control: what the strategies cost (contacts, offers, "
        "points, impressions)."),
    "roi_vs_control": (
        "ROI vs control",
        "The one ROI on this page: (incremental profit − strategy cost) / strategy cost. 0 % = the "
        "strategies paid for themselves and no more; 100 % = every unit spent came back twice."),
    "churn_rate_change": (
        "churn change vs control",
        "Annual churn rate of the run minus that of its control, in percentage points (negative = fewer "
        "customers lost)."),
    "clv_change": (
        "mean CLV change vs control",
        "Mean customer lifetime value (discounted margin − cost to serve − marketing spent on the customer, "
        "over acquired customers) of the run minus that of its control."),
    "profit": ("profit", "Gross margin − service cost − marketing spend over the whole run."),
    "revenue": ("revenue", "Sales to the firm's customers over the whole run."),
    "churn_rate_annual": (
        "annual churn rate",
        "Defections per year per average active customer (a rate: a constant yearly loss of share p gives "
        "−ln(1 − p), e.g. 22.3 % for p = 20 %)."),
    "mean_clv": ("mean CLV", "Mean customer lifetime value over the customers acquired by the end of the run."),
    "market_share": (
        "market share",
        "The focal firm's share of the value of all purchases in the simulated market (every purchase goes to "
        "exactly one firm)."),
    "market_share_change": (
        "market share change vs control",
        "Market share of the run minus that of its control, in percentage points."),
    "rival_profit_change": (
        "rivals' profit change vs control",
        "The rivals' profit in the run minus in its control (rivals keep their plug-ins in the control)."),
    "roi": (
        "ROI vs no-action control",
        "summary.json's roi: the same number as roi_vs_control (the one ROI definition); kept in "
        "collected.parquet, shown once on this page as roi_vs_control."),
    "n": ("n", "Number of finished replications (seeds) of the option."),
    "mean": ("mean", "Mean of the objective over the option's replications."),
    "ci": ("95 % CI", "Two-sided 95 % t-interval of that mean over replications."),
    "diff_vs_best": (
        "difference to the best",
        "Option minus best option, seed by seed (paired: both ran on the same customers and random "
        "numbers), with the 95 % t-interval of the paired differences. An interval that includes 0 means "
        "the two cannot be told apart with these replications."),
    "p_best": (
        "P(best)",
        "Share of 4,000 bootstrap resamples of the seeds (paired, seeded) in which the option has the best "
        "mean objective."),
    "spend": ("spend", "What the option's strategies actually spent, mean over replications."),
    "budget": ("budget", "The sum of the option's strategy budgets."),
    "unspent": ("unspent", "Budget − spend: money the strategies could not use."),
    "n_to_separate": (
        "replications to separate",
        "Replications per option that would tell the option from the best at the 5 % level with 80 % power: "
        "((1.96 + 0.84) × sd of the paired differences / mean difference)²."),
}


def label(metric: str) -> str:
    """The readable label of a metric from the glossary (its name with spaces if the glossary lacks it)."""
    return GLOSSARY.get(metric, (metric.replace("_", " "), ""))[0]


def _num(x: float, decimals: int) -> str:
    return f"{abs(x):,.{decimals}f}"


def money(x: float | None, currency: str | None = None, *, signed: bool = False) -> str:
    """``$36,670``, ``−€1,234``, ``12.50 IRR``: thousands separators, no exponent, currency if known."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    decimals = 0 if abs(x) >= 100 else 2
    body = _num(x, decimals)
    cur = (currency or "").upper()
    body = f"{SYMBOLS[cur]}{body}" if cur in SYMBOLS else (f"{body} {cur}" if cur else body)
    sign = "−" if x < 0 and round(abs(x), decimals) > 0 else ("+" if signed and x > 0 else "")
    return sign + body


def number(x: float | None, *, decimals: int | None = None, signed: bool = False) -> str:
    """Thousands separators, never an exponent; decimals chosen by size unless given."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if decimals is None:
        decimals = 0 if abs(x) >= 100 or float(x).is_integer() else (2 if abs(x) >= 1 else 3)
    sign = "−" if x < 0 and round(abs(x), decimals) > 0 else ("+" if signed and x > 0 else "")
    return sign + _num(x, decimals)


def percent(x: float | None, *, points: bool = False, signed: bool = False) -> str:
    """A share as ``33.6 %`` (or a change of shares as ``−2.1 pp``)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    v = 100.0 * x
    decimals = 0 if abs(v) >= 100 or v == 0 else 1
    return number(v, decimals=decimals, signed=signed or points) + (" pp" if points else " %")


def fmt(metric: str, x: float | None, currency: str | None = None, *, signed: bool = False) -> str:
    """A figure of ``metric`` in its unit (money with currency, shares as %, ROI as %)."""
    kind = UNITS.get(metric)
    if kind == "money":
        return money(x, currency, signed=signed)
    if kind in ("pct", "ratio"):
        return percent(x, signed=signed)
    if kind == "pp":
        return percent(x, points=True)
    if kind == "count":
        return number(x, decimals=0, signed=signed)
    return number(x, signed=signed)


def fmt_diff(metric: str, x: float | None, currency: str | None = None) -> str:
    """A difference of two ``metric`` figures, signed: money stays money, shares and ROI become
    percentage points."""
    if UNITS.get(metric) in ("pct", "ratio", "pp"):
        return percent(x, points=True)
    return fmt(metric, x, currency, signed=True)


def axis_format(metric: str) -> dict:
    """Plotly axis settings for ``metric``: thousands separators, % for shares, no SI exponent."""
    kind = UNITS.get(metric)
    if kind in ("pct", "ratio", "pp"):
        return {"tickformat": ",.0%"}
    return {"tickformat": ",~r", "exponentformat": "none"}
