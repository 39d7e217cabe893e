"""A simulated cycler service (protocol of ``experiments.cycler``), for tests and the demo.

- :mod:`experiments.simulator.service`: the FastAPI application and its configuration.
- :mod:`experiments.simulator.jobs`: the job queue, its compressed clock and results.
- :mod:`experiments.simulator.twin`: raw data generated from a pellet's true properties.
- :mod:`experiments.simulator.faults`: configurable service faults.
- :mod:`experiments.simulator.process`: the simulator in a subprocess (tests, quick start).

Nothing here runs against a real lab: the production client is :mod:`experiments.cycler`.
"""

__all__: list[str] = []
