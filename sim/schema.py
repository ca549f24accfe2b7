"""The output schema: every column of every output file, with its unit and meaning, defined once.

The README's "Output schema" section is rendered from :data:`FILES` (``python -m sim.schema``
prints it; ``python -m sim.schema --write README.md`` replaces the section between its
markers), and ``tests/test_schema.py`` runs a small market and a small sweep and checks every
file against it in both directions: no column without an entry, no entry without its column.

To document a new column, add a :class:`Column` to its file below; a new file is one more
:class:`OutputFile`. A column whose name depends on the run (one per stage, strategy, firm or
swept key) is a pattern with a placeholder in braces: ``stage_{stage}``, ``spend_{strategy}``.

Units: ``currency`` is the config's money unit (``output.currency`` names it; ``market.mean_spend``
is a basket in it), exact to the cent; ``days`` count from the start of the run (``market.start_date``); ``share`` is a
fraction in [0, 1]; ``customers`` and ``count`` are whole numbers.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: What each placeholder of a pattern stands for (shown under the tables).
PLACEHOLDERS = {
    "stage": "a ladder stage's name (`ladder.stages[*].name`)",
    "strategy": "a firm strategy's name (a key of `strategy`; market events have no spend and no groups)",
    "key": "a swept configuration key, as written in the override (e.g. `strategy.win_back.offer`)",
    "firm": "a firm's short name: `focal`, or a rival's name in lower case with `_` (`rival_a`)",
}


@dataclass(frozen=True)
class Column:
    """One column (or one family of columns, if ``name`` holds a ``{placeholder}``)."""

    name: str
    unit: str
    meaning: str
    when: str | None = None  #: present only in some runs (e.g. "with a paired control"); None: always

    @property
    def is_pattern(self) -> bool:
        """Whether ``name`` stands for a family of columns."""
        return "{" in self.name

    def regex(self) -> re.Pattern:
        """The column names this entry covers."""
        parts = re.split(r"\{(\w+)\}", self.name)
        rx = "".join(re.escape(p) if i % 2 == 0 else r"(?P<%s>.+)" % p for i, p in enumerate(parts))
        return re.compile(rf"^{rx}$")


@dataclass(frozen=True)
class OutputFile:
    """An output file: where it is written, what a row is, and its columns."""

    name: str
    where: str
    row: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def match(self, column: str) -> Column | None:
        """The entry documenting ``column``: an exact name first, else the first matching pattern."""
        for c in self.columns:
            if not c.is_pattern and c.name == column:
                return c
        for c in self.columns:
            if c.is_pattern and c.regex().match(column):
                return c
        return None

    def undocumented(self, columns) -> list[str]:
        """Columns of a real file that no entry documents."""
        return [c for c in columns if self.match(c) is None]

    def missing(self, columns, *, optional: bool = False) -> list[str]:
        """Entries with no column in a real file (entries with a ``when`` only if ``optional``)."""
        cols = list(columns)
        out = []
        for c in self.columns:
            if c.when is not None and not optional:
                continue
            hit = [x for x in cols if self.match(x) is c]
            if not hit:
                out.append(c.name)
        return out


C = Column

_STOCK = (
    C("t", "days", "report time (every `engine.report_every` days, and the horizon)"),
    C("date", "date", "calendar date of `t` (`market.start_date` + t)"),
    C("stage_{stage}", "customers", "people in this ladder stage at `t`"),
    C("customers_focal", "customers", "people in a customer-role stage at `t` (the focal firm's customers)"),
    C("exposure_hazard", "1/day", "a suspect's exposure hazard at `t`: Bass p + advertising + word of mouth q·F"),
    C("quadrant_true_loyalty", "customers", "current customers with high attitude and high repeat patronage "
      "(Dick & Basu 1994; both ≥ 0.5)"),
    C("quadrant_latent_loyalty", "customers", "current customers with high attitude, low repeat patronage"),
    C("quadrant_spurious_loyalty", "customers", "current customers with low attitude, high repeat patronage (inertia)"),
    C("quadrant_no_loyalty", "customers", "current customers with low attitude and low repeat patronage"),
    C("acquisitions", "count", "people who became customers for the first time in the period ending at `t` "
      "(win-backs not included)"),
    C("cum_acquisitions", "count", "acquisitions since the start"),
    C("defections", "count", "customers lost to a rival in the period ending at `t`"),
    C("cum_defections", "count", "defections since the start"),
    C("churn_rate", "share", "defections in the period over the firm's customers at the previous report "
      "(per period, not annual; `summary.json` has `churn_rate_annual`)"),
)
_MONEY = (
    C("revenue", "currency", "sales in the period ending at `t`"),
    C("margin", "currency", "gross margin of those sales (revenue − cost of goods)"),
    C("service_cost", "currency", "cost to serve the period's purchases (by stage)"),
    C("contact_cost", "currency", "contacts made by strategies (channel cost per contact)"),
    C("offer_cost", "currency", "offers redeemed: discounts, coupons, points, free service"),
    C("other_spend", "currency", "other marketing spend: advertising, referral rewards"),
    C("fixed_cost", "currency", "fixed overheads (`economics.fixed_cost_per_month`)"),
    C("marketing_spend", "currency", "contact_cost + offer_cost + other_spend"),
    C("profit", "currency", "margin − service_cost − marketing_spend − fixed_cost"),
    C("cum_revenue", "currency", "revenue since the start"),
    C("cum_margin", "currency", "gross margin since the start"),
    C("cum_service_cost", "currency", "cost to serve since the start"),
    C("cum_contact_cost", "currency", "contact cost since the start"),
    C("cum_offer_cost", "currency", "offer cost since the start"),
    C("cum_other_spend", "currency", "other marketing spend since the start"),
    C("cum_fixed_cost", "currency", "fixed overheads since the start"),
    C("cum_profit", "currency", "profit since the start"),
)
_SPEND = (C("spend_{strategy}", "currency", "this strategy's spend since the start (contacts, offers, other)"),)
_FIRMS = (
    C("firm_revenue_{firm}", "currency", "this firm's revenue in the period (the value of the purchases it got)"),
    C("market_share_{firm}", "share", "this firm's share of all purchases' value in the period"),
    C("wallet_share_{firm}", "share", "this firm's share of the focal firm's customers' purchases (share of wallet)",
      when="with share of wallet on (`market.wallet`)"),
)

_CUSTOMERS = (
    C("customer_id", "id", "row of the customer (0 … n−1); the key of `transactions.parquet`"),
    C("stage", "category", "ladder stage at the end of the run (the true stage, not the firm's classification)"),
    C("firm", "code", "whom the person buys from at the end: 0 the focal firm, 1 … K a rival "
      "(`market.competitors` in order), −1 nobody yet"),
    C("channel_preference", "category", "the channel the customer prefers (`channels`)"),
    C("acquired_via", "category", "how the customer was first acquired: none, initial (a customer on day 0), "
      "organic, advertising, word_of_mouth, contact, winback"),
    C("acquired_at", "days", "first acquisition (negative: before the run; empty: never)"),
    C("first_churn_at", "days", "first defection to a rival (empty: never)"),
    C("churned_at", "days", "latest defection (empty: never)"),
    C("last_purchase_at", "days", "latest purchase (empty: never)"),
    C("spend_level", "currency", "the customer's own mean basket value (log-normal draw; latent)"),
    C("purchase_rate", "1/day", "the customer's own purchase rate before stage multipliers (gamma draw; latent)"),
    C("satisfaction", "0–1", "satisfaction at the end (latent)"),
    C("trust", "0–1", "trust at the end (latent)"),
    C("attitude", "0–1", "relative attitude toward the firm at the end (latent)"),
    C("patronage", "0–1", "repeat patronage at the end, decayed since the last purchase "
      "(`service.patronage_memory_days`)"),
    C("loyalty_quadrant", "category", "Dick & Basu quadrant from attitude and patronage: no loyalty, "
      "latent loyalty, spurious loyalty, true loyalty"),
    C("switching_cost", "0–1", "switching cost built up (loyalty programme tiers, cross-sold products)"),
    C("n_purchases", "count", "purchases from the focal firm, including the history given on day 0"),
    C("n_contacts", "count", "contacts received from the firm's strategies"),
    C("revenue", "currency", "the customer's purchases during the run"),
    C("margin", "currency", "gross margin on them"),
    C("service_cost", "currency", "cost to serve them"),
    C("contact_cost", "currency", "contacts spent on the customer"),
    C("offer_cost", "currency", "offers the customer redeemed"),
    C("acquisition_cost", "currency, discounted", "marketing spent on the person before the first purchase, "
      "discounted to day 0 (0 for customers on day 0 or never acquired)"),
    C("profit", "currency", "margin − service_cost − contact_cost − offer_cost"),
    C("clv", "currency, discounted", "customer lifetime value over the run: discounted margin − cost to serve − "
      "marketing spent on the customer, acquisition included (`economics.annual_discount_rate`); 0 if never acquired"),
    C("treated_{strategy}", "bool", "the strategy contacted this customer at least once"),
    C("holdout_{strategy}", "bool", "the strategy chose this customer but held it out as a control "
      "(`strategy.<name>.holdout`)"),
)

_TRANSACTIONS = (
    C("customer_id", "id", "who bought (`customers.parquet` row)"),
    C("timestamp", "days", "when, in days since the start (exact event time)"),
    C("date", "datetime", "when, as a timestamp (`market.start_date` + timestamp)"),
    C("amount", "currency", "basket value paid"),
    C("channel", "category", "the buyer's preferred channel (`customers.parquet` channel_preference)"),
)

_FLOWS = (
    C("t", "days", "end of the report period"),
    C("from_stage", "stage", "stage left"),
    C("to_stage", "stage", "stage entered"),
    C("count", "count", "moves from `from_stage` to `to_stage` in the period (only non-zero rows)"),
)

_SUMMARY = (
    C("n_customers", "customers", "market size (`market.n_customers`)"),
    C("days", "days", "horizon (`market.days`)"),
    C("start_date", "date", "first day (`market.start_date`)"),
    C("end_date", "date", "start_date + days"),
    C("calibrated_from", "path", "the transaction log a calibrated market was fitted to (`market.source`); "
      "null otherwise"),
    C("revenue", "currency", "sales over the run"),
    C("cost_of_goods", "currency", "revenue − gross margin"),
    C("gross_margin", "currency", "revenue × margin (per sale, `economics.margin` or a cross-sold product's own)"),
    C("service_cost", "currency", "cost to serve all purchases"),
    C("contact_cost", "currency", "all contacts made by strategies"),
    C("offer_cost", "currency", "all offers redeemed"),
    C("other_marketing_spend", "currency", "advertising and referral rewards"),
    C("marketing_spend", "currency", "contact_cost + offer_cost + other_marketing_spend"),
    C("fixed_cost", "currency", "fixed overheads over the run"),
    C("profit", "currency", "gross_margin − service_cost − marketing_spend − fixed_cost"),
    C("roi", "ratio", "(incremental profit − strategy cost) / strategy cost against the paired no-action "
      "control (= `paired.roi_vs_control`); null without a control"),
    C("acquisitions", "count", "people who became customers for the first time during the run"),
    C("acquisition_cost_per_customer", "currency, discounted", "mean `acquisition_cost` of customers acquired "
      "during the run"),
    C("defections", "count", "defections during the run"),
    C("customers_end", "customers", "the focal firm's customers at the end"),
    C("churn_rate_annual", "1/year", "defections per customer-year at risk (from event times)"),
    C("mean_clv", "currency, discounted", "mean `clv` of everyone ever acquired"),
    C("total_clv", "currency, discounted", "sum of `clv` over all customers"),
    C("top20_revenue_share", "share", "revenue share of the top 20 % of buyers (the Pareto split, measured)"),
    C("top20_profit_share", "share", "profit share of the top 20 % of profitable customers"),
    C("negative_wom", "object", "negative word of mouth: `tellers`, `people_told`, `told_per_teller`"),
    C("response_rates", "object", "per `channel/audience` (prospect, existing, lapsed): sales `contacts` and "
      "`response_rate` (share)"),
    C("stage_counts_end", "object", "people per stage at the end (customers)"),
    C("firm_customers_end", "object", "customers per firm at the end (the focal firm and each rival)"),
    C("market_share", "share", "the focal firm's share of all purchases' value over the run"),
    C("share_of_wallet", "share", "the focal firm's share of its customers' purchases",
      when="with share of wallet on (`market.wallet`)"),
    C("rival_profit", "currency", "the rivals' profit, summed"),
    C("firms", "object", "per firm: its profit and loss statement (as the top-level money keys) and market share"),
    C("events_transactions", "count", "purchases logged (rows of `transactions.parquet`)"),
    C("strategies", "object", "per plug-in: `kind`, `class`, `budget` and `spend` (currency), `contacts`, "
      "`responders`, `actions` and its own counters; `treated` (and `held_out`): customers, churned share at "
      "the end, stage mix, net margin per customer"),
    C("holdout", "object", "per strategy with `holdout` > 0: treated and held-out customers, uplift per customer "
      "(currency) and its standard error, incremental profit, ROI"),
    C("paired", "object", "against the paired no-action control (common random numbers): `strategy_cost`, "
      "`incremental_profit` (before strategy cost), `incremental_net_profit`, `roi_vs_control`, "
      "`incremental_revenue`, `churn_rate_change`, `customers_end_change`, and the control's own figures "
      "(`control_*`)", when="with a paired control (`paired_control: true` and a firm strategy)"),
    C("seed", "object", "`seed`, `replication`, SeedSequence `entropy` and `spawn_key`, the counter-based "
      "`counter_rng_key`"),
    C("status", "text", "`complete`: written last, marks a finished run"),
    C("files", "object", "every file the run wrote: `{name: {bytes, sha256}}` (the run's manifest)"),
)

_RUN_RECORD = (
    C("overrides", "list", "the command-line overrides the run was asked to run (without `output.dir`)"),
)

_COLLECTED = (
    C("run", "path", "the run's directory, relative to the sweep directory"),
    C("strategy", "text", "the run's strategies, `+`-joined (`none` without any)"),
    C("seed", "count", "the run's seed"),
    C("replication", "count", "the run's replication index"),
    C("param.{key}", "as set", "value of a key the sweep set (other than seed and replication)",
      when="for every key set by the sweep's overrides"),
    C("revenue", "currency", "`summary.json` revenue"),
    C("profit", "currency", "`summary.json` profit"),
    C("roi", "ratio", "`summary.json` roi (vs the paired control)"),
    C("churn_rate_annual", "1/year", "`summary.json` churn_rate_annual"),
    C("mean_clv", "currency, discounted", "`summary.json` mean_clv"),
    C("total_clv", "currency, discounted", "`summary.json` total_clv"),
    C("customers_end", "customers", "`summary.json` customers_end"),
    C("marketing_spend", "currency", "`summary.json` marketing_spend"),
    C("top20_revenue_share", "share", "`summary.json` top20_revenue_share"),
    C("n_customers", "customers", "`summary.json` n_customers"),
    C("days", "days", "`summary.json` days"),
    C("roi_vs_control", "ratio", "`paired.roi_vs_control`"),
    C("incremental_profit", "currency", "`paired.incremental_profit` (before strategy cost)"),
    C("incremental_net_profit", "currency", "`paired.incremental_net_profit`"),
    C("strategy_cost", "currency", "`paired.strategy_cost`"),
    C("incremental_revenue", "currency", "`paired.incremental_revenue`"),
    C("churn_rate_change", "1/year", "`paired.churn_rate_change` (treated − control)"),
    C("customers_end_change", "customers", "`paired.customers_end_change`"),
    C("control_profit", "currency", "`paired.control_profit`"),
    C("control_churn_rate_annual", "1/year", "`paired.control_churn_rate_annual`"),
    C("control_mean_clv", "currency, discounted", "`paired.control_mean_clv`"),
    C("clv_change", "currency, discounted", "mean_clv − control_mean_clv"),
    C("budget", "currency", "the run's strategies' budgets, summed (market events count 0)"),
    C("spend", "currency", "what those strategies spent"),
    C("unspent", "currency", "budget − spend"),
    C("currency", "text", "the money unit's ISO 4217 code (`output.currency`)"),
    C("market_share", "share", "`summary.json` market_share"),
    C("share_of_wallet", "share", "`summary.json` share_of_wallet", when="with share of wallet on"),
    C("rival_profit", "currency", "`summary.json` rival_profit"),
    C("market_share_change", "share", "`paired.market_share_change` (treated − control)"),
    C("rival_profit_change", "currency", "`paired.rival_profit_change` (treated − control)"),
)

_COMPARISON = (
    C("group", "text", "the combination of swept values (other than seed and replication) the row summarises"),
    C("strategy", "text", "the group's strategies (when groups differ by strategy but it was not swept by key)",
      when="when runs differ in strategies"),
    C("param.{key}", "as set", "the group's value of a swept key", when="for every swept key"),
    C("metric", "text", "the figure summarised (a column of `collected.parquet`)"),
    C("label", "text", "the metric's label in `comparison.html`"),
    C("paired", "bool", "the metric compares a run with its own no-action control"),
    C("mean", "metric's unit", "mean over the group's replications"),
    C("sd", "metric's unit", "standard deviation over replications (empty if n < 2)"),
    C("ci_low", "metric's unit", "lower end of the two-sided 95 % t-interval of the mean (empty if n < 2)"),
    C("ci_high", "metric's unit", "upper end of that interval"),
    C("n", "count", "replications with a finite value"),
)

_RANKING = (
    C("rank", "count", "1 = the best option by the objective's mean"),
    C("option", "text", "the option: its swept values other than seed and replication"),
    C("n", "count", "replications of the option with a finite objective"),
    C("objective", "text", "the figure ranked (a `collected.parquet` column; default incremental_net_profit)"),
    C("mean", "objective's unit", "the objective's mean over the option's replications"),
    C("ci_low", "objective's unit", "lower end of its two-sided 95 % t-interval (empty if n < 2)"),
    C("ci_high", "objective's unit", "upper end of that interval"),
    C("diff_vs_best_mean", "objective's unit", "option − best option, mean of the seed-by-seed differences"),
    C("diff_vs_best_ci_low", "objective's unit", "lower end of the 95 % t-interval of those paired differences"),
    C("diff_vs_best_ci_high", "objective's unit", "upper end of that interval"),
    C("n_paired", "count", "seeds both the option and the best option finished"),
    C("p_best", "share", "share of paired bootstrap resamples of the seeds in which the option is best"),
    C("n_to_separate", "count", "replications per option that would tell it from the best (5 % level, 80 % power)"),
    C("spend", "currency", "its strategies' spend, mean over replications"),
    C("budget", "currency", "its strategies' budgets, summed"),
    C("unspent", "currency", "budget − spend"),
    C("strategy", "text", "the option's strategies (when options differ by strategy, not by a swept key)",
      when="when runs differ in strategies"),
    C("param.{key}", "as set", "the option's value of a swept key", when="for every swept key"),
)

#: Every output file, in the order the README lists them.
FILES: dict[str, OutputFile] = {f.name: f for f in (
    OutputFile("timeseries.parquet", "run directory", "one row per report time", _STOCK + _MONEY + _SPEND + _FIRMS),
    OutputFile("control_timeseries.parquet", "run directory (with a paired control)",
               "one row per report time of the paired no-action control (the same columns without strategies' "
               "spend)", _STOCK + _MONEY + _FIRMS),
    OutputFile("customers.parquet", "run directory", "one row per person in the market", _CUSTOMERS),
    OutputFile("transactions.parquet", "run directory", "one row per purchase", _TRANSACTIONS),
    OutputFile("flows.parquet", "run directory", "one row per report period and ladder move", _FLOWS),
    OutputFile("summary.json", "run directory", "top-level keys of one JSON object (written last)", _SUMMARY),
    OutputFile("run.json", "run directory", "top-level keys of one JSON object (written first)", _RUN_RECORD),
    OutputFile("collected.parquet", "sweep directory", "one row per finished run", _COLLECTED),
    OutputFile("comparison.parquet", "sweep directory", "one row per group and metric", _COMPARISON),
    OutputFile("ranking.csv", "sweep directory", "one row per option, best first (`sim.decide`)", _RANKING),
)}


def render_markdown() -> str:
    """The schema as Markdown: one table per file (column, unit, meaning), then the placeholders."""
    out = []
    for f in FILES.values():
        out.append(f"**`{f.name}`** ({f.where}): {f.row}.\n")
        out.append("| column | unit | meaning |\n| --- | --- | --- |")
        for c in f.columns:
            meaning = c.meaning + (f" (only {c.when})" if c.when else "")
            out.append(f"| `{c.name}` | {c.unit} | {meaning.replace('|', '/')} |")
        out.append("")
    out.append("Placeholders: " + "; ".join(f"`{{{k}}}` is {v}" for k, v in PLACEHOLDERS.items()) + ".")
    return "\n".join(out) + "\n"


BEGIN, END = "<!-- schema:begin (python -m sim.schema --write README.md) -->", "<!-- schema:end -->"


def replace_section(text: str) -> str:
    """``text`` (a README) with the part between the schema markers replaced by :func:`render_markdown`."""
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise ValueError(f"no schema section: expected the markers {BEGIN!r} … {END!r}")
    return text[: i + len(BEGIN)] + "\n\n" + render_markdown() + "\n" + text[j:]


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.schema [--write README.md | --check README.md]``."""
    ap = argparse.ArgumentParser(prog="python -m sim.schema", description="Print the output schema as Markdown.")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", metavar="README", help="replace the schema section of this file")
    g.add_argument("--check", metavar="README", help="exit 1 if this file's schema section is out of date")
    a = ap.parse_args(argv)
    if not (a.write or a.check):
        sys.stdout.write(render_markdown())
        return 0
    p = Path(a.write or a.check)
    text = p.read_text(encoding="utf-8")
    try:
        new = replace_section(text)
    except ValueError as e:
        print(f"sim.schema: {p}: {e}", file=sys.stderr)
        return 2
    if a.check:
        if new != text:
            print(f"sim.schema: {p}: the schema section is out of date; run python -m sim.schema --write {p}",
                  file=sys.stderr)
            return 1
        return 0
    from .outputs import atomic_write_text
    atomic_write_text(p, new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
