"""A simulated cycler service (protocol 1.1, or 1.0), for tests and the demo.

- :mod:`experiments.simulator.service`: the FastAPI application.
- :mod:`experiments.simulator.config`: its settings (:class:`SimulatorConfig`).
- :mod:`experiments.simulator.jobs`: the job queue, its compressed clock (instrument-hours)
  and results.
- :mod:`experiments.simulator.samples`: pellets measured by several jobs, consumption.
- :mod:`experiments.simulator.twin`: raw data generated from a pellet's true properties.
- :mod:`experiments.simulator.faults`: configurable service faults.
- :mod:`experiments.simulator.process`: the simulator in a subprocess (tests, quick start).

Nothing here runs against a real lab: the production client is :mod:`experiments.cycler`.
"""

__all__: list[str] = []
