"""A table of bad inputs, each with the exit code and a fragment of the message it must give.

Most rows run in-process through :func:`sim.cli_check.check_command_line`, the checks
``python -m sim`` makes before simulating (composition, unknown keys, the ``sweep:`` block,
validation, the plug-in allow-list); a handful run as real subprocesses, so the table also
proves the command line gives the same exit code and message.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli_check import check_command_line

ROOT = Path(__file__).resolve().parents[1]
#: the crm7 line the malformed copy breaks: the first stage entry (0-based)
BROKEN_LINE = next(i for i, line in enumerate(
    (ROOT / "sim" / "configs" / "ladder" / "crm7.yaml").read_text(encoding="utf-8").splitlines())
    if line.startswith("  - {name:"))
WB = "strategy=win_back"
LP = "strategy=loyalty_programme"

# (command-line arguments, expected exit code, fragment of the message)
CASES: list[tuple[list[str], int, str]] = [
    # market
    (["market.n_customers=true"], 2, "market.n_customers = True: a number is required, not a boolean"),
    (["market.n_customers=-5"], 2, "market.n_customers = -5"),
    (["market.n_customers=0"], 2, "market.n_customers = 0"),
    (["market.n_customers=1e9"], 2, "market.n_customers"),
    (["market.n_customers=abc"], 2, "market.n_customers = 'abc'"),
    (["market.days=0"], 2, "market.days = 0"),
    (["market.days=inf"], 2, "market.days = inf: Input should be a finite number"),
    (["market.mean_spend=inf"], 2, "market.mean_spend = inf: Input should be a finite number"),
    (["market.mean_spend=nan"], 2, "market.mean_spend"),
    (["market.mean_spend=1e17"], 2, "market.mean_spend = 1e+17: Input should be less than or equal to"),
    (["market.spend_sigma=5"], 2, "market.spend_sigma = 5"),
    (["market.innovation=2"], 2, "market.innovation = 2"),
    (["market.defection=-0.1"], 2, "market.defection = -0.1"),
    (["market.start_date=2026-13-45"], 2, "market.start_date"),
    (["market.initial_stages={suspect: 0.5}"], 2, "market.initial_stages: shares must add up to 1"),
    (["market.competitors=[]"], 2, "market.competitors"),
    (["market.purchase.kind=foo"], 2, "market.purchase.kind = 'foo'"),
    (["market.purchase.r=inf"], 2, "market.purchase.r = inf"),
    (["market.purchase.alpha=1e300"], 2, "market.purchase.alpha"),
    # service, economics, channels
    (["service.quality=1.5"], 2, "service.quality = 1.5"),
    (["service.patronage_memory_days=1e9"], 2, "service.patronage_memory_days"),
    (["economics.margin=2"], 2, "economics.margin = 2"),
    (["economics.offer_half_value=0"], 2, "economics.offer_half_value = 0"),
    (["economics.contact_tolerance=inf"], 2, "economics.contact_tolerance = inf"),
    (["channels.email.cost=inf"], 2, "channels.email.cost = inf: Input should be a finite number"),
    (["channels.email.cost=-1"], 2, "channels.email.cost = -1"),
    (["channels.email.cost=1e12"], 2, "channels.email.cost"),
    (["channels.email.preference=inf"], 2, "channels.email.preference = inf"),
    (["channels.email.response.existing=1.5"], 2, "channels.email.response.existing"),
    # engine, output, top level
    (["engine.dt=1e-5"], 2, "engine.dt = 1e-05: market.days / engine.dt = 73,000,000 steps"),
    (["engine.dt=0"], 2, "engine.dt = 0"),
    (["engine.report_every=1e-6"], 2, "engine.report_every"),
    (["engine.mode=fast"], 2, "engine.mode = 'fast'"),
    (["engine.agents_max=true"], 2, "engine.agents_max = True: a number is required"),
    (["output.locale=de"], 2, "output.locale = 'de'"),
    (["seed=-1"], 2, "seed = -1"),
    (["seed=true"], 2, "seed = True: a number is required"),
    (["replication=-1"], 2, "replication = -1"),
    (["paired_control=maybe"], 2, "paired_control = 'maybe'"),
    # ladder
    (["ladder.transitions.0.from=[]"], 2, "ladder.transitions[0].from = []"),
    (["ladder.stages.0.role=boss"], 2, "ladder.stages[0].role = 'boss'"),
    (["ladder.stages.0.name=BAD"], 2, "ladder.stages[0].name = 'BAD'"),
    (["ladder.stages.6.spend=inf"], 2, "ladder.stages[6].spend = inf"),
    (["ladder.transitions.0.to=nowhere"], 2, "unknown stage 'nowhere'"),
    # strategies: calendar, money, channel
    ([WB, "strategy.win_back.channel=null"], 2, "strategy.win_back.channel = None: WinBack contacts customers"),
    ([WB, "strategy.win_back.channel=fax"], 2, "strategy.win_back.channel = 'fax': not a channel"),
    ([WB, "strategy.win_back.every_days=-30"], 2, "strategy.win_back.every_days = -30: every_days must be > 0"),
    ([WB, "strategy.win_back.every_days=0"], 2, "strategy.win_back.every_days = 0: every_days must be > 0"),
    (["strategy=mass_advertising", "strategy.mass_advertising.every_days=0"], 2,
     "strategy.mass_advertising.every_days = 0"),
    ([WB, "strategy.win_back.budget=inf"], 2, "strategy.win_back.budget = inf: Input should be a finite number"),
    ([WB, "strategy.win_back.budget=1e17"], 2, "strategy.win_back.budget = 1e+17"),
    ([WB, "strategy.win_back.offer=inf"], 2, "strategy.win_back.offer = inf"),
    ([WB, "strategy.win_back.offer=1e7"], 2, "offer"),
    ([WB, "strategy.win_back.budget=2e10"], 2, "budget must be >= 0 and <= 1e+10"),
    ([WB, "strategy.win_back.holdout=1"], 2, "strategy.win_back.holdout = 1"),
    ([WB, "strategy.win_back.start_day=-1"], 2, "strategy.win_back.start_day = -1"),
    ([WB, "strategy.win_back.max_contacts=true"], 2, "strategy.win_back.max_contacts = True"),
    ([WB, "strategy.win_back.end_day=1", "strategy.win_back.start_day=5"], 2, "end_day (1.0) is before start_day"),
    ([LP, "strategy.loyalty_programme.points_rate=inf"], 2, "strategy.loyalty_programme.points_rate = inf"),
    ([LP, "strategy.loyalty_programme.max_tiers=true"], 2, "strategy.loyalty_programme.max_tiers = True"),
    ([LP, "strategy.loyalty_programme.eligible_stages=[nope]"], 2, "unknown stage"),
    (["strategy=churn_outreach", "strategy.churn_outreach.threshold=2"], 2, "strategy.churn_outreach.threshold = 2"),
    (["strategy=markov_migration", "strategy.markov_migration.every_days=-1"], 2,
     "strategy.markov_migration.every_days = -1"),
    (["+strategy.extra={budget: 5}"], 2, "strategy.extra: needs a _target_"),
    # the plug-in allow-list: a config names plug-in classes, never code to run
    ([WB, "strategy.win_back._target_=subprocess.Popen"], 2, "strategy.win_back._target_ = 'subprocess.Popen'"),
    ([WB, "strategy.win_back._target_=os.system"], 2, "standard library is never a plug-in"),
    ([WB, "strategy.win_back._target_=sim.market.Market"], 2, "not a sim.strategies.Strategy"),
    ([WB, "strategy.win_back._target_=no_such_pkg.Thing"], 2, "cannot import it"),
    ([WB, "strategy.win_back._target_='sim.strategies.WinBack; rm'"], 2, "must be a dotted class path"),
    ([WB, "+strategy.win_back.segment={_target_: subprocess.Popen, args: [touch, x]}"], 2,
     "strategy.win_back.segment._target_ = 'subprocess.Popen'"),
    ([WB, "+strategy.win_back.segment={_target_: builtins.eval}"], 2, "strategy.win_back.segment._target_"),
    ([WB, "+strategy.win_back.segment={_target_: sim.strategies.WinBack}"], 2, "not a sim.strategies.Segmenter"),
    ([WB, "+strategy.win_back.segment={_target_: sim.strategies.ValueSegment, top_share: 2}"], 2,
     "strategy.win_back.segment.top_share = 2"),
    ([WB, "+strategy.win_back.segment={_target_: sim.strategies.StageSegment, stages: [nope]}"], 2,
     "segment.stages: unknown stage 'nope'"),
    ([WB, "+strategy.win_back.segment=sim.strategies.RFM"], 2, "strategy.win_back.segment"),
    # the sweep block
    (["+sweep.objective=roii"], 2, "sweep.objective = 'roii': not a figure of the run summary; did you mean roi"),
    (["+sweep.churn_cap=inf"], 2, "sweep.churn_cap = inf: must be a finite number"),
    (["+sweep.typo=1"], 2, "sweep: unknown key(s) ['typo']"),
    # the command line itself
    (["strategy=nope"], 2, "Could not find 'strategy/nope'"),
    (["ladder=nope"], 2, "Could not find 'ladder/nope'"),
    (["+scenario=nope"], 2, "Could not find 'scenario/nope'"),
    (["-m", "strategy=win_back,nope"], 2, "Could not find 'strategy/nope'"),
    (["hydra/launcher=nope"], 2, "Could not find 'hydra/launcher/nope'"),
    (["--config-dir", "{root}/experiments", "--config-name", "optimise_loyalty", "strategy=nope"], 2,
     "Could not find 'strategy/nope'"),
    (["market.start_date=سلام"], 2, "quote a value with spaces, non-ASCII letters (e.g. Persian)"),
    (["market.n_custmers=5"], 2, "unknown configuration key 'market.n_custmers'"),
    (["--config-dir", "{bad}", "ladder=broken"], 2, f"broken.yaml\", line {BROKEN_LINE + 1}"),
    (["--config-dir", "{bad}", "ladder=empty_from"], 2, "ladder.transitions[0].from = []"),
    # and good ones still pass
    ([], 0, ""),
    ([WB, "strategy.win_back.every_days=7"], 0, ""),
    (["strategy=mass_advertising"], 0, ""),
    (["+scenario=bad_service_shock"], 0, ""),
    ([WB, "+strategy.win_back.segment={_target_: sim.strategies.ValueSegment, top_share: 0.3}"], 0, ""),
    (["market.start_date='2026-02-01'", "output.locale=fa"], 0, ""),
    (["-m", "hydra/launcher=local_parallel", "seed=0,1"], 0, ""),
    (["--config-dir", "{root}/experiments", "--config-name", "optimise_loyalty"], 0, ""),
]


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory) -> Path:
    """A config directory with a malformed ladder (at BROKEN_LINE) and a ladder whose transition has from: []."""
    d = tmp_path_factory.mktemp("badcfg")
    (d / "ladder").mkdir()
    lines = (ROOT / "sim" / "configs" / "ladder" / "crm7.yaml").read_text(encoding="utf-8").splitlines()
    broken = list(lines)
    broken[BROKEN_LINE] += " : : [unclosed"
    (d / "ladder" / "broken.yaml").write_text("\n".join(broken) + "\n", encoding="utf-8")
    text = (ROOT / "sim" / "configs" / "ladder" / "crm7.yaml").read_text(encoding="utf-8")
    import yaml
    lad = yaml.safe_load(text)
    lad["transitions"][0]["from"] = []
    (d / "ladder" / "empty_from.yaml").write_text(yaml.safe_dump(lad, allow_unicode=True), encoding="utf-8")
    return d


def _argv(args: list[str], bad: Path) -> list[str]:
    return [a.replace("{bad}", str(bad)).replace("{root}", str(ROOT)) for a in args]


def test_the_table_is_large_enough():
    assert sum(code != 0 for _, code, _ in CASES) >= 60


@pytest.mark.parametrize("args,code,fragment", CASES, ids=[" ".join(a) or "defaults" for a, _, _ in CASES])
def test_bad_input_in_process(args, code, fragment, bad_dir):
    msg = check_command_line(_argv(args, bad_dir))
    if code == 0:
        assert msg is None
    else:
        assert msg is not None and msg.startswith("sim"), msg
        assert fragment in msg, msg
        assert "Traceback" not in msg


SUBPROCESS = [
    (["market.n_customers=true"], 2, "market.n_customers = True: a number is required"),
    (["strategy=nope"], 2, "Could not find 'strategy/nope'"),
    (["market.start_date=سلام"], 2, "quote a value"),
    ([WB, "+strategy.win_back.segment={_target_: subprocess.Popen, args: [touch, pwned]}"], 2,
     "strategy.win_back.segment._target_ = 'subprocess.Popen'"),
]


@pytest.mark.parametrize("args,code,fragment", SUBPROCESS, ids=[" ".join(a) for a, _, _ in SUBPROCESS])
def test_bad_input_on_the_command_line(args, code, fragment, bad_dir, tmp_path):
    r = subprocess.run([sys.executable, "-m", "sim", *_argv(args, bad_dir), f"hydra.run.dir={tmp_path / 'run'}",
                        "engine.progress=false"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == code, r.stderr[-2000:]
    assert fragment in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "run" / "summary.json").exists()


def test_validation_command_bad_inputs(tmp_path, capsys):
    """``python -m sim.validation`` follows the same rules (in-process through its main)."""
    from sim.validation.__main__ import main
    for argv, fragment in ((["bass", "market.n_custmers=5"], "unknown configuration key"),
                           (["bass", "market.n_customers=true"], "a number is required"),
                           (["nope"], "no study 'nope'"),
                           (["markov", "strategy.markov_migration.every_days=0"], "every_days")):
        assert main([*argv, "--output", str(tmp_path)]) == 2, argv
        err = capsys.readouterr().err
        assert fragment in err and "Traceback" not in err, (argv, err[-2000:])
    with pytest.raises(SystemExit) as e:
        main(["bass", "--replications", "0"])
    assert e.value.code == 2
    r = subprocess.run([sys.executable, "-m", "sim.validation", "bass", "--replications", "0"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--replications: must be between 1" in r.stderr and "Traceback" not in r.stderr
