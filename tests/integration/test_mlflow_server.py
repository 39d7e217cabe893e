"""A shared MLflow tracking server: PostgreSQL backend, served artifacts, basic auth."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from design.tracking.server import ServerSpec, start_server
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration


def test_basic_auth_refuses_unauthenticated_clients(tmp_path: Path, monkeypatch):
    spec = ServerSpec(
        backend_store_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
        port=free_port(),
        auth=True,
        admin_password="a-Strong-test-password-1",
    )
    with start_server(spec, state_dir=tmp_path / "state"):
        search = f"{spec.url}/api/2.0/mlflow/experiments/search"
        anonymous = httpx.post(search, json={"max_results": 10}, timeout=10)
        assert anonymous.status_code == 401
        wrong = httpx.post(search, json={"max_results": 10}, auth=("admin", "wrong"), timeout=10)
        assert wrong.status_code == 401
        admin = httpx.post(
            search, json={"max_results": 10}, auth=("admin", "a-Strong-test-password-1"), timeout=10
        )
        assert admin.status_code == 200

        import mlflow
        from mlflow.exceptions import MlflowException

        client = mlflow.MlflowClient(spec.url)
        monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
        monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        with pytest.raises(MlflowException, match=r"401|Unauthorized|credentials"):
            client.create_experiment("anonymous-should-fail")
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "a-Strong-test-password-1")
        exp_id = client.create_experiment("with-credentials")
        assert client.get_experiment(exp_id).name == "with-credentials"


def test_postgres_backend_with_served_artifacts(tmp_path: Path, postgres_url: str):
    backend = postgres_url
    spec = ServerSpec(
        backend_store_uri=backend,
        artifacts_destination=str(tmp_path / "artifacts"),
        port=free_port(),
    )
    with start_server(spec, state_dir=tmp_path / "state"):
        import mlflow

        client = mlflow.MlflowClient(spec.url)
        exp_id = client.create_experiment("pg-check")
        run = client.create_run(exp_id)
        client.log_metric(run.info.run_id, "sigma_total_ms_cm", 1.5, step=1)
        note = tmp_path / "note.txt"
        note.write_text("served artifact")
        client.log_artifact(run.info.run_id, str(note))
        client.set_terminated(run.info.run_id)
        # served artifacts: the run's artifact URI goes through the server, files land in the destination
        assert client.get_run(run.info.run_id).info.artifact_uri.startswith("mlflow-artifacts:")
        assert list((tmp_path / "artifacts").rglob("note.txt"))
        assert client.get_metric_history(run.info.run_id, "sigma_total_ms_cm")[0].value == 1.5
