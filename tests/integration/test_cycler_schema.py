"""Property-based tests of the simulator against its own OpenAPI schema (schemathesis).

Schemathesis generates valid and invalid requests for every operation of the published
schema and checks the answers: never a 5xx, status codes and bodies as the schema declares,
invalid data rejected with a 4xx, 401 without the token, 405 for other methods. The app runs
in process (ASGI, faults off), so a crash shows its traceback.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from experiments.simulator.service import SimulatorConfig, create_app  # noqa: E402

pytestmark = pytest.mark.integration

TOKEN = "schema-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _app():
    from experiments.worlds.landscapes import get_landscape

    config = SimulatorConfig(token=TOKEN, seed=3, job_duration_s=0.05, max_concurrent_jobs=2)
    return create_app(config, landscape=get_landscape("calibrated"))


# Loaded at collection (schemathesis' lazy ``from_fixture`` does not work with pytest 9).
schema = schemathesis.openapi.from_asgi("/openapi.json", _app(), headers=AUTH)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_simulator_conforms_to_its_schema(case):
    # Positive data acceptance does not hold by design: a schema-valid recipe may be off the
    # furnace grid (400) and a schema-valid job id may be unknown (404).
    case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])
