"""Benchmark: batch fit of R0-p(R1,CPE1)-p(R2,CPE2) spectra, ours against impedance.py 1.7.1.

Synthetic spectra: R0 50-500 ohm, R1 and R2 100-5000 ohm (log-uniform), CPE exponents
0.7-0.95, arc apexes at 10-200 kHz (arc 1) and 1-100 Hz (arc 2), with
Q = 1 / (R (2 pi f_apex)^alpha) from f_apex = 1 / (2 pi (R Q)^(1/alpha)); 1 MHz to 0.1 Hz at
10 points per decade; Gaussian noise of 1 % of |Z| on the real and imaginary parts.

Ours: :func:`physics.eis.fitting.fit_batch` with automatic guesses. impedance.py: ``CustomCircuit``
with one generic initial guess, fitted spectrum by spectrum on a subset (it is slow).
A gross failure is any of R0, R1, R2 more than 20 % off. For both, the two arcs are put in
order of apex frequency before comparing (they are interchangeable in the circuit).
The same subset also goes through both Lin-KK implementations (impedance.py's needs ``np``
put into ``impedance.models.circuits.elements.circuit_elements`` on NumPy 2).

Run: ``.venv/bin/python benchmarks/bench_eis_fit.py --n 200 --seed 0 --n-impedance 50``
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from physics.eis.circuits import Circuit
from physics.eis.fitting import fit_batch

CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)"
GENERIC_GUESS = [100.0, 1000.0, 1e-9, 0.85, 1000.0, 1e-5, 0.85]


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency grid (71,), true parameters (n, 7), noisy Z (n, 71)."""
    rng = np.random.default_rng(seed)
    f = np.logspace(6, -1, 71)
    r0 = rng.uniform(50, 500, n)
    r1, r2 = np.exp(rng.uniform(np.log(100), np.log(5000), (2, n)))
    a1, a2 = rng.uniform(0.7, 0.95, (2, n))
    f1 = np.exp(rng.uniform(np.log(1e4), np.log(2e5), n))
    f2 = np.exp(rng.uniform(np.log(1.0), np.log(100.0), n))
    q1 = 1 / (r1 * (2 * np.pi * f1) ** a1)
    q2 = 1 / (r2 * (2 * np.pi * f2) ** a2)
    true = np.column_stack([r0, r1, q1, a1, r2, q2, a2])
    z = Circuit(CIRCUIT).impedance(f, true)
    noise = 0.01 * np.abs(z) * (rng.normal(size=z.shape) + 1j * rng.normal(size=z.shape))
    return f, true, z + noise


def order_arcs(p: np.ndarray) -> np.ndarray:
    """Swap the two arcs where arc 2 has the shorter time constant (R Q)^(1/alpha)."""
    p = p.copy()
    tau1 = np.log(p[:, 1] * p[:, 2]) / p[:, 3]
    tau2 = np.log(p[:, 4] * p[:, 5]) / p[:, 6]
    swap = tau2 < tau1
    p[swap] = p[swap][:, [0, 4, 5, 6, 1, 2, 3]]
    return p


def scores(fit: np.ndarray, true: np.ndarray) -> tuple[float, np.ndarray]:
    """Share of gross failures (%) and median relative error per parameter (%)."""
    rel = np.abs(fit - true) / np.abs(true)
    gross = np.any(~np.isfinite(rel[:, [0, 1, 4]]) | (rel[:, [0, 1, 4]] > 0.2), axis=1)
    return 100 * float(gross.mean()), 100 * np.nanmedian(rel, axis=0)


def run_impedance_py(f: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, float]:
    from impedance.models.circuits import CustomCircuit

    out = np.full((len(z), 7), np.nan)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, zi in enumerate(z):
            model = CustomCircuit(CIRCUIT, initial_guess=list(GENERIC_GUESS))
            try:
                model.fit(f, zi)
                out[i] = model.parameters_
            except Exception:  # a failed fit counts as a gross failure
                pass
    return out, time.perf_counter() - t0


def run_lin_kk(f: np.ndarray, z: np.ndarray) -> list[tuple[str, float, float, float]]:
    """Lin-KK on each spectrum, ours and impedance.py's (complex fit, c = 0.85, max M = 50).

    Returns rows (label, seconds per spectrum, pass share % at |residual| <= 5 %, median M).
    """
    import contextlib
    import io

    from impedance.models.circuits import elements
    from impedance.validation import linKK

    from physics.eis.kk import lin_kk

    elements.circuit_elements["np"] = np  # impedance.py 1.7.1 evaluates its K element with np
    out = []
    t0 = time.perf_counter()
    ours = [lin_kk(f, zi) for zi in z]
    t_ours = (time.perf_counter() - t0) / len(z)
    out.append(
        ("ours lin_kk", t_ours, 100 * float(np.mean([r.passed for r in ours])),
         float(np.median([r.m for r in ours])))
    )  # fmt: skip
    t0 = time.perf_counter()
    theirs = []
    with contextlib.redirect_stdout(io.StringIO()):  # it prints every 10th M
        for zi in z:
            m, _mu, _zf, rr, ri = linKK(f, zi, c=0.85, max_M=50, fit_type="complex")
            theirs.append((m, max(np.abs(rr).max(), np.abs(ri).max())))
    t_theirs = (time.perf_counter() - t0) / len(z)
    out.append(
        ("impedance.py linKK", t_theirs, 100 * float(np.mean([mx <= 0.05 for _, mx in theirs])),
         float(np.median([m for m, _ in theirs])))
    )  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="number of spectra for our batch fit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="timing runs of ours (best is shown)")
    ap.add_argument(
        "--n-impedance", type=int, default=50, help="subset fitted by impedance.py (0 = skip)"
    )
    args = ap.parse_args()

    f, true, z = synthetic(args.n, args.seed)
    fit_batch(f, z[:5], CIRCUIT)  # warm-up
    t_ours, cpu_ours = np.inf, np.inf
    for _ in range(args.repeat):  # best of `repeat`: the machine is shared
        t0, c0 = time.perf_counter(), time.process_time()
        results = fit_batch(f, z, CIRCUIT)
        t_ours = min(t_ours, time.perf_counter() - t0)
        cpu_ours = min(cpu_ours, time.process_time() - c0)
    names = Circuit(CIRCUIT).param_names
    ours = np.array([[r.params[n] for n in names] for r in results])
    restarted = sum(r.n_starts_used > 1 for r in results)
    n_imp = min(args.n_impedance, args.n)

    print(
        f"EIS fit benchmark: {CIRCUIT}, {args.n} spectra, seed {args.seed}, 71 points "
        "(1 MHz-0.1 Hz), 1 % noise"
    )
    print(f"ours: fit_batch, automatic guesses, {restarted} spectra refitted with multi-start")
    rows = [("ours (all)", args.n, t_ours, cpu_ours, *scores(ours, true))]
    if n_imp:
        rows.append(("ours (subset)", n_imp, np.nan, np.nan, *scores(ours[:n_imp], true[:n_imp])))
        c0 = time.process_time()
        imp, t_imp = run_impedance_py(f, z[:n_imp])
        cpu_imp = time.process_time() - c0
        rows.append(
            ("impedance.py 1.7.1", n_imp, t_imp, cpu_imp, *scores(order_arcs(imp), true[:n_imp]))
        )
        print(
            f"impedance.py: CustomCircuit.fit, one generic guess {GENERIC_GUESS}, "
            f"first {n_imp} spectra only (slow)"
        )
    head = (
        f"{'method':<20}{'spectra':>8}{'wall s':>9}{'cpu s':>8}{'spectra/s':>11}{'gross %':>9}  "
        + "".join(f"{n:>8}" for n in names)
    )
    print(
        f"ours timed as the best of {args.repeat} runs; spectra/s from wall time; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        "gross % = share with R0, R1 or R2 more than 20 % off; then the median relative error (%)"
    )
    print(head)
    print("-" * len(head))
    for label, n, t, cpu, gross, med in rows:
        tt = f"{t:9.3f}{cpu:8.3f}{n / t:11.1f}" if np.isfinite(t) else f"{'-':>9}{'-':>8}{'-':>11}"
        print(f"{label:<20}{n:>8}{tt}{gross:9.1f}  " + "".join(f"{m:8.2f}" for m in med))
    if n_imp:
        speedup = (args.n / t_ours) / (n_imp / rows[-1][2])
        print(f"speed-up ours / impedance.py (wall): {speedup:.0f}x")
        print(f"Lin-KK on the same {n_imp} valid spectra (pass = every |residual| <= 5 % of |Z|):")
        print(f"{'method':<20}{'ms/spectrum':>12}{'pass %':>8}{'median M':>10}")
        for label, sec, passed, m_med in run_lin_kk(f, z[:n_imp]):
            print(f"{label:<20}{1e3 * sec:12.2f}{passed:8.1f}{m_med:10.1f}")


if __name__ == "__main__":
    main()
