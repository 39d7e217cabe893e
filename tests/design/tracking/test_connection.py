"""The MLflow store check: an unreachable server or an unwritable store is one error, at once."""

from __future__ import annotations

import os
import socket

import pytest

from design.errors import TrackingError
from design.tracking.connection import check_tracking_store, short_http_retries


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens


def test_unreachable_server(monkeypatch):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    uri = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(TrackingError, match=r"not reachable.*--tracking-uri"):
        check_tracking_store(uri, timeout_s=1.0)


def test_sqlite_store_checks(tmp_path):
    check_tracking_store(f"sqlite:///{tmp_path / 'sub' / 'mlflow.db'}")  # folder created
    assert (tmp_path / "sub").is_dir() and list((tmp_path / "sub").iterdir()) == []
    (tmp_path / "a-file").write_text("")
    with pytest.raises(TrackingError, match="cannot write in"):
        check_tracking_store(f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}")
    with pytest.raises(TrackingError, match="is a folder"):
        check_tracking_store(f"sqlite:///{tmp_path}")
    (tmp_path / "text.db").write_text("not a database at all, just text" * 10)
    with pytest.raises(TrackingError, match="not a database"):
        check_tracking_store(f"sqlite:///{tmp_path / 'text.db'}")


def test_short_http_retries_keeps_the_users_settings(monkeypatch):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "99")
    short_http_retries()
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "99"
