"""Benchmark: our batched Levenberg-Marquardt against scipy.optimize.least_squares for EIS fits.

Only the solver differs. Every variant runs the production pipeline of
:func:`physics.eis.fitting.fit_spectrum` (one spectrum at a time, always 8 starting points) and
:func:`physics.eis.fitting.fit_batch` (all spectra at once, multi-start for the poor ones): the
same automatic initial guesses, residual weights (modulus), log/logit parameter transform, analytic
Jacobian (``physics.eis.least_squares._residuals``), step limits (40 steps in the first pass, 150
in the multi-start stage), multi-start rules and arc ordering. The scipy variants replace
:func:`physics.eis.least_squares.levenberg_marquardt` by a loop that calls
``scipy.optimize.least_squares`` once per problem (``max_nfev`` = the step limit,
``ftol`` = our ``rtol`` = 1e-7, ``xtol`` = ``gtol`` = 1e-8):

* ``scipy lm``: MINPACK Levenberg-Marquardt in the transformed parameters theta.
* ``scipy trf``: trust-region reflective in theta (unbounded).
* ``scipy trf x_scale=jac``: the same with scipy's Jacobian-based variable scaling.
* ``scipy trf bounds``: trust-region reflective in the physical parameters with the circuit's
  bounds (no transform), ``x_scale="jac"``; the way scipy is usually called.

Synthetic spectra: those of ``bench_eis_fit.py`` (two arcs, 71 points, 1 % noise); gross failure
as there (R0, R1 or R2 more than 20 % off). Evaluations per spectrum: residual + Jacobian
evaluations (ours computes both at every trial point; scipy reports nfev and njev).

Real files: every impedance sweep of ``--real`` (default ``/work/shared/instrument-files``) that
``read_spectra`` reads, fitted with ``fit_spectrum`` and the circuit ``choose_circuit`` picks;
each scipy variant is compared with ours: same optimum (reduced chi-square within 0.1 %), or which
reaches the lower chi-square (by more than 0.1 %), and the largest relative parameter difference.

Run: ``.venv/bin/python benchmarks/bench_eis_solver.py --n 200 --seed 0``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from bench_eis_fit import CIRCUIT, scores, synthetic
from scipy.optimize import least_squares

import physics.eis.fitting as fitting
import physics.eis.least_squares as lsq
from physics.eis.circuits import Circuit
from physics.eis.fitting import choose_circuit, fit_batch, fit_spectrum
from physics.eis.readers import read_spectra
from physics.eis.spectrum import Spectrum
from physics.errors import GBSError

BIG = 1e100  # stands for a residual that overflowed at a trial point
EXACT = 1e-12  # reduced chi-square below which a fit is exact (relative residuals ~1e-6)


class Counter:
    """Residual and Jacobian evaluations per solved problem."""

    def __init__(self) -> None:
        self.nfev = 0
        self.njev = 0


def scipy_solver(method: str, x_scale: str | float, counter: Counter, physical: bool) -> Callable:
    """A drop-in for ``levenberg_marquardt`` that solves each problem with scipy."""

    def solve(circuit, transform, frequency_hz, z_meas, inv_re, inv_im, theta0, *,
              max_iter=200, rtol=1e-7):  # fmt: skip
        m = theta0.shape[0]
        theta, cost = theta0.astype(float).copy(), np.full(m, np.inf)
        converged = np.zeros(m, dtype=bool)
        for i in range(m):
            cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
            zi, wr, wi = z_meas[i : i + 1], inv_re[i : i + 1], inv_im[i : i + 1]

            def both(x, zi=zi, wr=wr, wi=wi, cache=cache):
                key = x.tobytes()
                if key not in cache:
                    if physical:  # the weighted residuals and Jacobian in p, as _residuals does
                        with np.errstate(all="ignore"):
                            zf, jz = circuit.impedance_and_jacobian(
                                frequency_hz, x[None], params_last=False
                            )
                        d = zf - zi
                        r = np.concatenate([d.real * wr, d.imag * wi], axis=-1)
                        j = np.concatenate([jz.real * wr[:, None], jz.imag * wi[:, None]], axis=2)
                    else:
                        r, j = lsq._residuals(circuit, transform, frequency_hz, x[None], zi, wr, wi)
                    r, j = r[0], j[0].T  # (2n,), (2n, p)
                    cache.clear()
                    cache[key] = (
                        np.where(np.isfinite(r), r, BIG),
                        np.nan_to_num(j, nan=0.0, posinf=0.0, neginf=0.0),
                    )
                return cache[key]

            x0 = transform.to_params(theta0[i])[0] if physical else theta0[i].astype(float)
            if not np.all(both(x0)[0] < BIG):
                converged[i] = True  # a broken start stops at once, as in ours
                continue
            kw: dict = {}
            if physical:
                kw["bounds"] = (transform.lower, transform.upper)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = least_squares(
                    lambda x: both(x)[0], x0, jac=lambda x: both(x)[1], method=method,
                    x_scale=x_scale, ftol=rtol, xtol=1e-8, gtol=1e-8, max_nfev=max_iter, **kw,
                )  # fmt: skip
            counter.nfev += res.nfev
            counter.njev += res.njev or 0
            theta[i] = transform.to_theta(res.x) if physical else res.x
            cost[i] = 2 * res.cost if np.all(np.isfinite(res.fun)) else np.inf
            converged[i] = res.status > 0
        return theta, cost, converged

    return solve


def ours_counted(counter: Counter) -> Callable:
    """Our solver, counting residual + Jacobian evaluations per problem."""
    inner = lsq._residuals

    def counted(circuit, transform, f, theta, *rest):
        counter.nfev += theta.shape[0]
        counter.njev += theta.shape[0]
        return inner(circuit, transform, f, theta, *rest)

    return counted


VARIANTS = {  # label -> (method, x_scale, physical parameters with bounds)
    "ours (batched LM)": None,
    "scipy lm": ("lm", 1.0, False),
    "scipy trf": ("trf", 1.0, False),
    "scipy trf x_scale=jac": ("trf", "jac", False),
    "scipy trf bounds": ("trf", "jac", True),
}


@contextlib.contextmanager
def solver(label: str) -> Iterator[Counter]:
    """Swap the solver of the production pipeline for the duration of the block."""
    counter = Counter()
    spec = VARIANTS[label]
    saved_lm, saved_res = fitting.levenberg_marquardt, lsq._residuals
    if spec is None:
        lsq._residuals = ours_counted(counter)
    else:
        method, x_scale, physical = spec
        fitting.levenberg_marquardt = scipy_solver(method, x_scale, counter, physical)  # type: ignore[assignment]
    try:
        yield counter
    finally:
        fitting.levenberg_marquardt, lsq._residuals = saved_lm, saved_res


def timed_synthetic(f, true, z, labels: list[str]) -> list[tuple]:
    names = Circuit(CIRCUIT).param_names
    rows = []
    for mode in ("fit_spectrum", "fit_batch"):
        for label in labels:
            with solver(label) as counter:
                t0, c0 = time.perf_counter(), time.process_time()
                if mode == "fit_batch":
                    results = fit_batch(f, z, CIRCUIT)
                else:
                    results = [fit_spectrum(frequency_hz=f, z_ohm=zi, circuit=CIRCUIT) for zi in z]
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            fit = np.array([[r.params[n] for n in names] for r in results])
            gross, med = scores(fit, true)
            n_fail = sum(not r.success for r in results)
            rows.append(
                (mode, label, len(z) / wall, len(z) / cpu, gross, n_fail, med,
                 counter.nfev / len(z), counter.njev / len(z))
            )  # fmt: skip
    return rows


def real_spectra(folder: Path) -> list[tuple[str, Spectrum]]:
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".md"):
        try:
            sweeps = read_spectra(path)
        except GBSError:
            continue  # not an impedance export, refused by the reader
        for k, s in enumerate(sweeps, 1):
            out.append((f"{path.relative_to(folder)}#{k}", s))
    return out


def real_files(folder: Path, labels: list[str]) -> None:
    spectra = real_spectra(folder)
    fits: dict[str, list] = {label: [] for label in labels}
    seconds = dict.fromkeys(labels, 0.0)
    circuits = []
    for _name, s in spectra:
        circuits.append(choose_circuit(s)[0])
    for label in labels:
        with solver(label), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow at extreme parameters
            for (_name, s), circ in zip(spectra, circuits, strict=True):
                t0 = time.perf_counter()
                try:
                    fits[label].append(fit_spectrum(s, circuit=circ))
                except GBSError:
                    fits[label].append(None)
                seconds[label] += time.perf_counter() - t0
    n_fit = sum(r is not None for r in fits[labels[0]])
    print(
        f"\nReal files: {len(spectra)} impedance sweeps in {folder} "
        f"({n_fit} fittable; circuits: "
        + ", ".join(f"{c} x{circuits.count(c)}" for c in sorted(set(circuits)))
        + ")"
    )
    head = (
        f"{'solver':<24}{'ms/sweep':>9}{'not conv':>9}{'same':>6}{'ours <':>8}{'scipy <':>9}"
        f"{'max dp %':>10}{'chi2 ratio min':>16}{'max':>8}"
    )
    print(
        "same = reduced chi2 within 0.1 % (or both < 1e-12: exact fits); 'ours <' = ours lower "
        "by more; not conv = flagged unsuccessful; max dp = largest relative difference of a "
        "parameter resolved in both fits, over the 'same' sweeps; chi2 ratio = "
        "solver / ours, over all sweeps"
    )
    print(head)
    print("-" * len(head))
    ref = fits[labels[0]]
    for label in labels:
        same = ours_better = theirs_better = 0
        dp_same: list[float] = []
        ratio: list[float] = []
        for a, b in zip(ref, fits[label], strict=True):
            if a is None or b is None:
                continue
            diff = b.chi2 - a.chi2
            ratio.append(max(b.chi2, EXACT) / max(a.chi2, EXACT))
            if abs(diff) <= 1e-3 * min(a.chi2, b.chi2) + EXACT:
                same += 1
                both = [n for n in a.params if n not in a.unresolved and n not in b.unresolved]
                dp_same.extend(100 * abs(b.params[n] / a.params[n] - 1) for n in both)
            elif diff > 0:
                ours_better += 1
            else:
                theirs_better += 1
        not_conv = sum(r is not None and not r.success for r in fits[label])
        print(
            f"{label:<24}{1e3 * seconds[label] / len(spectra):9.2f}{not_conv:9d}{same:6d}"
            f"{ours_better:8d}{theirs_better:9d}{max(dp_same, default=0):10.3g}"
            f"{min(ratio, default=np.nan):16.4g}{max(ratio, default=np.nan):8.4g}"
        )


def report_synthetic(n: int, seed: int, labels: list[str]) -> None:
    f, true, z = synthetic(n, seed)
    fit_batch(f, z[:5], CIRCUIT)  # warm-up
    print(
        f"EIS solver benchmark: {CIRCUIT}, {n} synthetic spectra, seed {seed}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        "spectra/s from wall and from CPU time; gross % = R0, R1 or R2 more than 20 % off; "
        "not conv = fits flagged unsuccessful; nfev, njev = residual and Jacobian evaluations per "
        "spectrum; then the median relative error (%)"
    )
    names = Circuit(CIRCUIT).param_names
    head = (
        f"{'pipeline':<13}{'solver':<24}{'wall/s':>8}{'cpu/s':>8}{'gross %':>8}{'not conv':>9}"
        f"{'nfev':>7}{'njev':>7}  " + "".join(f"{n:>7}" for n in names)
    )
    print(head)
    print("-" * len(head))
    for mode, label, sps, sps_cpu, gross, n_fail, med, nfev, njev in timed_synthetic(
        f, true, z, labels
    ):
        print(
            f"{mode:<13}{label:<24}{sps:8.0f}{sps_cpu:8.0f}{gross:8.1f}{n_fail:9d}{nfev:7.1f}"
            f"{njev:7.1f}  " + "".join(f"{m:7.2f}" for m in med)
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="synthetic spectra (0 = skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real", type=Path, default=Path("/work/shared/instrument-files"))
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args()
    labels = ["ours (batched LM)", *(v for v in args.variants if v != "ours (batched LM)")]
    if args.n > 0:
        report_synthetic(args.n, args.seed, labels)
    if not args.skip_real:
        real_files(args.real, labels)


if __name__ == "__main__":
    main()
