"""experiments: measured data, sample results, simulation landscapes and the cycler service.

- ``data/``: the paper's measurements as a measurement table (``wang2022.csv``).
- ``samples/``: a cycler result as a service returns it.
- :mod:`experiments.worlds.landscapes`: the "truth" behind the simulator and the benchmarks.
- :mod:`experiments.cycler`: the cycler client, simulator and digital twin.
"""

from pathlib import Path

from experiments.worlds.landscapes import LANDSCAPES, get_landscape


def paper_table_path() -> Path:
    """Path of the paper's measurement table, ``experiments/data/wang2022.csv``."""
    return Path(__file__).resolve().parent / "data" / "wang2022.csv"


__all__ = ["LANDSCAPES", "get_landscape", "paper_table_path"]
