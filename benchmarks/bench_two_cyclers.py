"""Calendar time of a fixed-hours campaign on one cycler service and on two at once.

Starts the simulator (``job_jitter=0``: every job uses exactly its announced hours, so both
runs spend the same hours), runs the same ``--budget-hours`` campaign (same policy, strategy
and seed) against one service and then against two, and prints the wall time of each and
their ratio. With the instruments the bottleneck, two services should take about half the
time of one; the loop's own work (analysing each result, proposing) does not shrink with a
second service, so the ratio is above 0.5 by that share.

    python benchmarks/bench_two_cyclers.py                          # defaults below
    python benchmarks/bench_two_cyclers.py --budget-hours 1760 --job-duration-s 4 --policy staged

Time compression: ``--job-duration-s`` is the real seconds of a 110-h job (a new pellet with
every protocol), so one instrument-hour takes ``job_duration_s / 110`` s.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import torch

from design.campaign.config import CampaignConfig
from design.campaign.session import start_campaign
from experiments.simulator.process import running_simulator


def _run(n_services: int, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    with ExitStack() as stack:
        sims = [
            stack.enter_context(
                running_simulator(
                    seed=args.seed + i,
                    token=f"bench-{i}",
                    job_duration_s=args.job_duration_s,
                    job_jitter=0.0,
                    max_concurrent_jobs=args.slots,
                )
            )
            for i in range(n_services)
        ]
        from experiments.cycler.client import CyclerClient

        clients = {
            f"cycler-{i + 1}": stack.enter_context(CyclerClient(sim.url, token=sim.token))
            for i, sim in enumerate(sims)
        }
        config = CampaignConfig(
            name=f"bench-{n_services}",
            cycler_url=sims[0].url,
            other_cycler_urls=[s.url for s in sims[1:]],
            budget_hours=args.budget_hours,
            protocol_policy=args.policy,
            strategy=args.strategy,
            seed=args.seed,
            poll_interval_s=0.05,
            poll_max_s=0.2,
            tracking=False,
        )
        t0 = time.perf_counter()
        snap = start_campaign(
            config, db_url=f"sqlite:///{folder / f'bench-{n_services}.db'}", client=clients
        )
        wall_s = time.perf_counter() - t0
    return {
        "wall_s": wall_s,
        "samples": snap.experiments_done,
        "follow_ups": snap.followups_done,
        "hours": snap.hours.spent_h,
        "instrument_s": snap.hours.spent_h * args.job_duration_s / 110.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-hours", type=float, default=1760.0)
    parser.add_argument("--job-duration-s", type=float, default=4.0)
    parser.add_argument("--slots", type=int, default=4, help="max_concurrent_jobs per service")
    parser.add_argument("--policy", choices=("all", "staged"), default="all")
    parser.add_argument("--strategy", default="sobol")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    print(
        f"budget {args.budget_hours:g} instrument-hours, policy {args.policy}, strategy "
        f"{args.strategy}, {args.slots} jobs at once per service, a 110-h job takes "
        f"{args.job_duration_s:g} s, job_jitter 0"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, 2):
            results[n] = r = _run(n, args, Path(tmp))
            per_service_s = r["instrument_s"] / (n * args.slots)
            print(
                f"{n} service(s): wall {r['wall_s']:6.1f} s | {r['samples']} samples, "
                f"{r['follow_ups']} follow-ups, {r['hours']:.0f} h spent | instrument time "
                f"{r['instrument_s']:.1f} s over {n * args.slots} slots "
                f"(>= {per_service_s:.1f} s if always busy)"
            )
    ratio = results[2]["wall_s"] / results[1]["wall_s"]
    print(f"two services / one service, wall time: {ratio:.2f}")


if __name__ == "__main__":
    main()
