"""Benchmark of the closed loop's own cost, against the built-in simulator (time-compressed).

Two figures:

1. Overhead per iteration at 60 experiments: a campaign is brought to ``--prefill`` experiments
   cheaply (Sobol, no plots), then continues with ``--strategy`` (MLflow with plots on) up to
   ``--budget``; for that last stretch the loop's own time (everything but sleeping between
   polls: refit, acquisition, analysis, database, MLflow) is divided by the number of
   proposal rounds. Target: <= 3 s.
2. Wall time of a simulated campaign of ``--small-budget`` experiments in batches of 4 from the
   paper's data (physics-gp, MLflow and plots on). Target: < 5 min on 2 cores.

Usage::

    .venv/bin/python benchmarks/bench_campaign_overhead.py [--which overhead|campaign|both]
    taskset -c 0,1 .venv/bin/python benchmarks/bench_campaign_overhead.py   # pin to 2 cores
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from design.campaign.config import CampaignConfig
from design.campaign.runner import CampaignRunner
from design.campaign.session import load_initial_data
from design.store import ledger
from design.store.database import CampaignRecord, Store, dumps
from design.tracking.campaign import CampaignTracker
from experiments import paper_table_path
from experiments.cycler.client import CyclerClient
from experiments.simulator.process import running_simulator

TOKEN = "bench-token"


def _runner(store: Store, name: str, client: CyclerClient, uri: str, plots: bool) -> CampaignRunner:
    return CampaignRunner(store, name, client, tracker=CampaignTracker(uri, plots=plots))


def _set_config(store: Store, name: str, **changes) -> None:
    rec = store.campaign(name)
    config = CampaignConfig.from_json({**rec.config, **changes})
    with store.transaction() as s:
        s.get(CampaignRecord, rec.id).config_json = dumps(config.to_json())


def _phases(runner: CampaignRunner) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in sorted(runner.timings.items()))


def bench_overhead(args: argparse.Namespace, work: Path) -> None:
    store = Store(f"sqlite:///{work / 'overhead.db'}")
    uri = f"sqlite:///{work / 'mlflow.db'}"
    with (
        running_simulator(
            seed=11, token=TOKEN, job_duration_s=args.job_s, max_concurrent_jobs=4
        ) as sim,
        CyclerClient(sim.url, token=TOKEN) as client,
    ):
        config = CampaignConfig(
            name="overhead",
            cycler_url=sim.url,
            budget=args.prefill,
            batch_size=4,
            strategy="sobol",
            seed=1,
            poll_interval_s=0.05,
            poll_max_s=0.2,
            plots=False,
            tracking_uri=uri,
        )
        ledger.create_campaign(
            store, "overhead", config.to_json(), load_initial_data(paper_table_path())
        )
        t0 = time.perf_counter()
        _runner(store, "overhead", client, uri, plots=False).run()
        print(
            f"prefill: {args.prefill} experiments (sobol, no plots) in {time.perf_counter() - t0:.0f} s"
        )
        plots = not args.no_plots
        _set_config(store, "overhead", budget=args.budget, strategy=args.strategy, plots=plots)
        runner = _runner(store, "overhead", client, uri, plots=plots)
        t0 = time.perf_counter()
        snap = runner.run()
        wall = time.perf_counter() - t0
    rounds = max(len(runner.overhead_s), 1)
    rec = store.campaign("overhead")
    fits = [it.fit_seconds for it in store.iterations(rec.id) if it.n_rows >= args.prefill]
    loop = sum(runner.timings.values())
    fit = sum(fits)
    print(
        f"overhead at {args.prefill}->{snap.experiments_done} experiments ({args.strategy}, "
        f"plots {'off' if args.no_plots else 'on'}, "
        f"MLflow): {rounds} proposal rounds, wall {wall:.1f} s, slept {runner.slept_s:.1f} s"
    )
    print(
        f"  loop's own time per iteration: {loop / rounds:.2f} s (target <= 3 s), of which "
        f"refit + acquisition {fit / rounds:.2f} s (max {max(fits, default=0):.2f} s) and the rest "
        f"(analysis, database, HTTP, display) {(loop - fit) / rounds:.2f} s"
    )
    print(
        f"  MLflow child runs with plots, in the background worker: {runner.tracker.busy_s:.1f} s "
        f"({runner.tracker.busy_s / rounds:.2f} s per iteration)"
    )
    print(f"  phases: {_phases(runner)}")
    store.close()


def bench_campaign(args: argparse.Namespace, work: Path) -> None:
    store = Store(f"sqlite:///{work / 'small.db'}")
    uri = f"sqlite:///{work / 'mlflow-small.db'}"
    with (
        running_simulator(
            seed=12, token=TOKEN, job_duration_s=args.job_s, max_concurrent_jobs=4
        ) as sim,
        CyclerClient(sim.url, token=TOKEN) as client,
    ):
        config = CampaignConfig(
            name="small",
            cycler_url=sim.url,
            budget=args.small_budget,
            batch_size=4,
            strategy=args.strategy,
            seed=2,
            poll_interval_s=0.2,
            poll_max_s=1.0,
            plots=True,
            tracking_uri=uri,
        )
        t0 = time.perf_counter()
        ledger.create_campaign(
            store, "small", config.to_json(), load_initial_data(paper_table_path())
        )
        runner = _runner(store, "small", client, uri, plots=True)
        snap = runner.run()
        wall = time.perf_counter() - t0
    print(
        f"campaign of {snap.experiments_done} experiments in batches of 4 ({args.strategy}, "
        f"jobs {args.job_s:g} s, MLflow + plots): wall {wall:.0f} s (target < 300 s), "
        f"{len(runner.overhead_s)} proposal rounds, slept {runner.slept_s:.0f} s, "
        f"MLflow worker busy {runner.tracker.busy_s:.0f} s"
    )
    print(
        f"  phases: {_phases(runner)}; best sigma {snap.metrics['best_sigma_ms_cm']:.3g} mS/cm, "
        f"HV {snap.metrics['hypervolume']:.3g}"
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--which", choices=("overhead", "campaign", "both"), default="both")
    parser.add_argument("--strategy", default="physics-gp")
    parser.add_argument("--prefill", type=int, default=56)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--small-budget", type=int, default=20)
    parser.add_argument(
        "--no-plots",
        action="store_true",
        help="overhead run without MLflow plots (they are drawn by a background thread)",
    )
    parser.add_argument("--job-s", type=float, default=1.0, help="simulated seconds per job")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.which in ("overhead", "both"):
            bench_overhead(args, Path(tmp))
        if args.which in ("campaign", "both"):
            bench_campaign(args, Path(tmp))


if __name__ == "__main__":
    main()
