"""The cycler service: its protocol's models, an HTTP client, and a simulator of it.

- :mod:`experiments.cycler.client`: :class:`CyclerClient`, retries and strict checks.
- :mod:`experiments.cycler.models`: pydantic models of protocol version 1.
- :mod:`experiments.simulator.service`: the simulated service (FastAPI + uvicorn).
- :mod:`experiments.simulator.twin`: raw data generated from a pellet's true properties.
- :mod:`experiments.simulator.faults`: configurable service faults.
- :mod:`experiments.simulator.process`: a simulator in a subprocess (tests, quick start).

The simulator's modules are imported on demand, so importing the client stays light.
"""

from __future__ import annotations

from experiments.cycler.client import CyclerClient
from experiments.cycler.models import Capabilities, Job, JobError

__all__ = ["Capabilities", "CyclerClient", "Job", "JobError"]
