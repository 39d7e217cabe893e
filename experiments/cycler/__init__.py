"""The cycler service: its protocol's models, an HTTP client, and a simulator of it.

- :mod:`experiments.cycler.client`: :class:`CyclerClient`, retries and strict checks
  (protocol 1.0 and 1.1).
- :mod:`experiments.cycler.models`: pydantic models of the protocol, :class:`ProtocolVersion`.
- :mod:`experiments.cycler.durations`: :class:`Durations`, instrument-hours of a job.
- :mod:`experiments.cycler.errors`: what the client raises (sample errors of 1.1 included).
- :mod:`experiments.simulator.service`: the simulated service (FastAPI + uvicorn).
- :mod:`experiments.simulator.twin`: raw data generated from a pellet's true properties.
- :mod:`experiments.simulator.faults`: configurable service faults.
- :mod:`experiments.simulator.process`: a simulator in a subprocess (tests, quick start).

The simulator's modules are imported on demand, so importing the client stays light.
"""

from __future__ import annotations

from experiments.cycler.client import CyclerClient
from experiments.cycler.durations import DEFAULT_DURATIONS, Durations
from experiments.cycler.models import Capabilities, Job, JobError, ProtocolVersion

__all__ = [
    "DEFAULT_DURATIONS",
    "Capabilities",
    "CyclerClient",
    "Durations",
    "Job",
    "JobError",
    "ProtocolVersion",
]
