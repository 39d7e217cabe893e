"""Where MLflow logs go: one explicit tracking URI, never the current directory.

Default: a SQLite store ``mlruns/mlflow.db`` with artifacts in ``mlruns/artifacts/``, both
inside this repository. ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` select another store
(a shared ``http://`` tracking server, a ``postgresql://`` database...).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "MODEL_DEVELOPMENT_TAGS",
    "REPO_ROOT",
    "default_artifact_root",
    "default_tracking_uri",
    "ensure_experiment",
    "resolve_tracking_uri",
]

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Experiment tags that declare an experiment as model development, not GenAI. The accepted
#: values of ``mlflow.experimentKind`` are those of the UI's ExperimentKind enum:
#: ``custom_model_development``, ``genai_development``, ``finetuning``, ... In MLflow 3.17 the
#: tag does not choose the UI's view: its GenAI / Model-training switch does, so links carry
#: ``workflowType=machine_learning`` (:mod:`design.tracking.views`).
MODEL_DEVELOPMENT_TAGS: dict[str, str] = {"mlflow.experimentKind": "custom_model_development"}


def _mlruns_dir() -> Path:
    return Path(os.environ.get("GBS_MLRUNS_DIR", REPO_ROOT / "mlruns")).resolve()


def default_tracking_uri() -> str:
    """``sqlite:///<repo>/mlruns/mlflow.db`` (absolute path)."""
    return f"sqlite:///{_mlruns_dir() / 'mlflow.db'}"


def default_artifact_root() -> str:
    """``<repo>/mlruns/artifacts`` as a file URI."""
    return (_mlruns_dir() / "artifacts").as_uri()


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The tracking URI to use: the argument, else MLFLOW_TRACKING_URI, else the default.

    Also sets it on MLflow (``mlflow.set_tracking_uri``) so every later call uses it.
    """
    import mlflow

    chosen = uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    if chosen.startswith("sqlite:///"):
        Path(chosen.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        _init_sqlite_store_atomically(chosen)
    mlflow.set_tracking_uri(chosen)
    return chosen


def _init_sqlite_store_atomically(uri: str) -> None:
    """Create a new SQLite MLflow store in a temporary file, then rename it into place.

    MLflow builds its schema with a series of migrations; a process killed half-way leaves a
    store that no later process can open. Building it aside and renaming (atomic on POSIX)
    means the store at ``uri`` is either absent or complete.
    """
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri.removeprefix("sqlite:///"))
    if path.exists():
        return
    import mlflow

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    mlflow.MlflowClient(f"sqlite:///{tmp}").search_experiments(max_results=1)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    if not path.exists():
        os.replace(tmp, path)
    else:
        tmp.unlink(missing_ok=True)


def ensure_experiment(
    name: str, *, tracking_uri: str | None = None, tags: dict[str, str] | None = None
) -> str:
    """Get or create the MLflow experiment ``name``; return its id.

    On a SQLite store the experiment's artifacts go beside the database, in
    ``<folder of the .db>/artifacts/<name>`` (for the default store: ``mlruns/artifacts/``),
    never under the current directory; on a tracking server, the server decides.
    """
    import mlflow

    uri = resolve_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        for key, value in (tags or {}).items():  # experiments created by older versions
            if exp.tags.get(key) != value:
                client.set_experiment_tag(exp.experiment_id, key, value)
        return exp.experiment_id
    artifact_location = None
    if uri.startswith("sqlite:///"):
        db_folder = Path(uri.removeprefix("sqlite:///")).resolve().parent
        artifact_location = (db_folder / "artifacts" / name).as_uri()
    return client.create_experiment(name, artifact_location=artifact_location, tags=tags)
