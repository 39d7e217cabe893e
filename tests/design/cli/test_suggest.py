"""Tests of ``gbs suggest`` and ``gbs predict`` (typer CliRunner and design.cli.app.main)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from design.cli.app import app, main
from physics.schema import OBJECTIVES
from tests.surrogate.data import simulated_table

RECIPE = ("zbo_fraction", "sinter_temperature_c", "dwell_h")


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "table.csv"
    simulated_table(10, seed=21).to_csv(path, index=False)
    return path


def _check_records(records, acquisition: bool) -> None:
    assert isinstance(records, list) and records
    for rec in records:
        keys = {
            *RECIPE,
            *OBJECTIVES,
            "p_feasible",
            "far_from_data",
            "physics_weight",
            *(["acquisition_value"] if acquisition else []),
        }
        assert set(rec) == keys
        for name in OBJECTIVES:
            assert set(rec[name]) == {"mean", "sd"}
            assert rec[name]["mean"] > 0 and rec[name]["sd"] >= 0
        assert 0 <= rec["p_feasible"] <= 1
        assert isinstance(rec["far_from_data"], bool)
        assert set(rec["physics_weight"]) == set(OBJECTIVES)
        assert all(0 <= w <= 1 for w in rec["physics_weight"].values())


def test_suggest_json_only_on_stdout(data_csv):
    result = CliRunner().invoke(
        app,
        [
            "suggest",
            "--data",
            str(data_csv),
            "--batch",
            "3",
            "--json",
            "--no-mlflow",
            "--threshold",
            "electronic_fraction=0.05",
        ],
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == 3
    _check_records(records, acquisition=True)


def test_suggest_logs_to_mlflow_and_writes_plots(data_csv, tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    plots = tmp_path / "plots"
    result = CliRunner().invoke(
        app,
        [
            "suggest",
            "--data",
            str(data_csv),
            "--batch",
            "2",
            "--tracking-uri",
            uri,
            "--plot-dir",
            str(plots),
            "--objective",
            "sigma",
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    # the header may wrap on a narrow terminal; the recipe columns never do
    assert "sigma" in result.stdout and "mS/cm" in result.stdout and "±" in result.stdout
    assert "…" not in result.stdout
    assert {p.name for p in plots.iterdir()} >= {
        "pareto_front.png",
        "p_feasible.png",
        "posterior_sigma_total_ms_cm.png",
    }
    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("gbs-suggest").experiment_id])
    assert run.data.params["strategy"] == "physics-gp"
    assert run.data.params["objective"] == "sigma"
    assert run.data.params["physics_prior_sigma_total_ms_cm"] == "literature"
    assert float(run.data.params["physics_prior_sigma_total_ms_cm_cv_rmse_literature"]) >= 0
    assert "How far the model trusts the physics" in result.stderr
    assert "sigma: physics weight" in result.stderr
    assert 0 <= float(run.data.params["physics_prior_sigma_total_ms_cm_weight"]) <= 1
    assert len(run.inputs.dataset_inputs) == 1
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"suggestions.json", "plots"} <= names


def test_predict_json(data_csv, tmp_path):
    at = tmp_path / "at.csv"
    pd.DataFrame(
        {"zbo_fraction": [0.2, 0.3], "sinter_temperature_c": [1000, 1100], "dwell_h": [6, None]}
    ).to_csv(at, index=False)
    result = CliRunner().invoke(
        app, ["predict", "--data", str(data_csv), "--at", str(at), "--json"]
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    _check_records(records, acquisition=False)
    assert [r["zbo_fraction"] for r in records] == [0.2, 0.3]
    assert records[1]["dwell_h"] == 6.0
    # in words for a reader: the physics weight of each objective, and why
    result = CliRunner().invoke(app, ["predict", "--data", str(data_csv), "--at", str(at)])
    assert result.exit_code == 0, result.output
    for short in ("sigma", "CCD", "t_e"):
        assert f"{short}: physics weight" in result.stderr
    assert "left out one at a time" in result.stderr


def test_predict_gp_says_nothing_about_physics(data_csv, tmp_path):
    at = tmp_path / "at.csv"
    pd.DataFrame({"zbo_fraction": [0.2], "sinter_temperature_c": [1000]}).to_csv(at, index=False)
    result = CliRunner().invoke(
        app, ["predict", "--data", str(data_csv), "--at", str(at), "--strategy", "gp"]
    )
    assert result.exit_code == 0, result.output
    assert "physics weight" not in result.stderr
    result = CliRunner().invoke(
        app, ["predict", "--data", str(data_csv), "--at", str(at), "--strategy", "gp", "--json"]
    )
    assert "physics_weight" not in json.loads(result.stdout)[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--threshold", "density=0.9"], "sigma_total_ms_cm, ccd_ma_cm2, electronic_fraction"),
        (["--threshold", "sigma_total_ms_cm"], "NAME=VALUE"),
        (["--strategy", "random"], "physics-gp, gp, sobol"),
        (["--objective", "pareto"], "multi, sigma"),
    ],
)
def test_suggest_bad_options_one_line_exit_1(data_csv, capsys, extra, message):
    code = main(["suggest", "--data", str(data_csv), "--no-mlflow", *extra])
    err = capsys.readouterr().err
    assert code == 1
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_suggest_bad_data_one_line_exit_1(data_csv, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    table = pd.read_csv(data_csv)
    table["sigma_total_ms_cm"] = table["sigma_total_ms_cm"] / 1000
    table.to_csv(bad, index=False)
    assert main(["suggest", "--data", str(bad), "--no-mlflow"]) == 1
    assert "S/cm" in capsys.readouterr().err
    assert main(["suggest", "--data", str(tmp_path / "none.csv"), "--no-mlflow"]) == 1
    assert "no such measurement table" in capsys.readouterr().err
    at = tmp_path / "at.csv"
    pd.DataFrame({"zbo_fraction": [0.2]}).to_csv(at, index=False)
    assert main(["predict", "--data", str(data_csv), "--at", str(at)]) == 1
    assert "sinter_temperature_c" in capsys.readouterr().err


def test_suggest_limits_are_named(data_csv, tmp_path, capsys):
    from design.cli.suggest import MAX_BATCH, MAX_TABLE_ROWS

    assert main(["suggest", "--data", str(data_csv), "--batch", "1000", "--no-mlflow"]) == 1
    err = capsys.readouterr().err
    assert f"between 1 and {MAX_BATCH}" in err and err.count("\n") == 1
    big = tmp_path / "big.csv"
    table = pd.read_csv(data_csv)
    pd.concat([table] * (MAX_TABLE_ROWS // len(table) + 1)).to_csv(big, index=False)
    assert main(["suggest", "--data", str(big), "--no-mlflow"]) == 1
    err = capsys.readouterr().err
    assert f"at most {MAX_TABLE_ROWS} rows" in err and err.count("\n") == 1


def test_unreachable_tracking_server_fails_before_the_work(data_csv, capsys, monkeypatch):
    import socket

    import design.acquisition.batch as batch

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def never(*args, **kwargs):
        raise AssertionError("the model was fitted although MLflow was unreachable")

    monkeypatch.setattr(batch, "suggest", never)
    code = main(["suggest", "--data", str(data_csv), "--tracking-uri", f"http://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "not reachable" in err and "--no-mlflow" in err


def test_unwritable_default_store_fails_before_the_work(data_csv, tmp_path, capsys, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("GBS_MLRUNS_DIR", str(tmp_path / "a-file" / "mlruns"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["suggest", "--data", str(data_csv)]) == 1
    err = capsys.readouterr().err
    assert "cannot write in" in err and err.count("\n") == 1


def test_mlflow_failing_after_the_work_never_loses_the_suggestions(
    data_csv, tmp_path, capsys, monkeypatch
):
    import design.tracking.suggest as tracking_suggest
    from design.errors import TrackingError

    def fail(*args, **kwargs):
        raise TrackingError(
            "logging to MLflow failed: disk full; the suggestions above are not logged"
        )

    monkeypatch.setattr(tracking_suggest, "log_suggestions", fail)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = main(
        ["suggest", "--data", str(data_csv), "--batch", "2", "--json", "--tracking-uri", uri]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "disk full" in err and err.count("\n") == 1
    assert len(json.loads(out)) == 2  # printed before MLflow was tried


def test_predict_refuses_recipes_outside_the_space(data_csv, tmp_path, capsys):
    at = tmp_path / "at.csv"
    pd.DataFrame({"zbo_fraction": [0.2, 20], "sinter_temperature_c": [1000, 1000]}).to_csv(
        at, index=False
    )
    assert main(["predict", "--data", str(data_csv), "--at", str(at)]) == 1
    err = capsys.readouterr().err
    assert "row 3: zbo_fraction = 20 is outside [0, 0.5]" in err and err.count("\n") == 1
    pd.DataFrame({"zbo_fraction": [0.2], "sinter_temperature_c": [1500]}).to_csv(at, index=False)
    assert main(["predict", "--data", str(data_csv), "--at", str(at)]) == 1
    assert "sinter_temperature_c = 1500 is outside [900, 1300]" in capsys.readouterr().err


def test_suggest_refuses_a_table_with_recipes_outside_the_space(data_csv, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    table = pd.read_csv(data_csv)
    table.loc[1, "sinter_temperature_c"] = 1350
    table.to_csv(bad, index=False)
    assert main(["suggest", "--data", str(bad), "--no-mlflow"]) == 1
    assert "row 3: sinter_temperature_c = 1350 is outside [900, 1300]" in capsys.readouterr().err


def test_predict_marks_recipes_far_from_data(data_csv, tmp_path):
    table = pd.read_csv(data_csv)
    near = table.iloc[0][list(RECIPE)].to_dict()
    far = {"zbo_fraction": 0.5, "sinter_temperature_c": 1300.0, "dwell_h": 24.0}
    at = tmp_path / "at.csv"
    pd.DataFrame([near, far]).to_csv(at, index=False)
    result = CliRunner().invoke(
        app, ["predict", "--data", str(data_csv), "--at", str(at), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert [r["far_from_data"] for r in json.loads(result.stdout)] == [False, True]
    shown = CliRunner().invoke(app, ["predict", "--data", str(data_csv), "--at", str(at)])
    assert "far" in shown.stdout and "1 of 2 recipes are far from data" in shown.stderr


def test_suggest_minimize_temperature_flag(data_csv):
    args = ["suggest", "--data", str(data_csv), "--batch", "2", "--json", "--no-mlflow"]
    plain = CliRunner().invoke(app, args)
    cool = CliRunner().invoke(
        app, [*args, "--minimize-temperature", "--threshold", "sinter_temperature_c=1250"]
    )
    assert plain.exit_code == 0 and cool.exit_code == 0, cool.output
    a, b = json.loads(plain.stdout), json.loads(cool.stdout)
    _check_records(b, acquisition=True)
    # the 4-D improvement is a volume x degC: the values are not those of the 3-D one
    assert [r["acquisition_value"] for r in a] != [r["acquisition_value"] for r in b]
    # nothing at or above the reference temperature can add 4-D hypervolume
    assert all(r["sinter_temperature_c"] < 1250 for r in b)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--threshold", "sinter_temperature_c=1200"], "only with --minimize-temperature"),
        (["--minimize-temperature", "--objective", "sigma"], "multi-objective"),
    ],
)
def test_suggest_temperature_options_one_line(data_csv, capsys, extra, message):
    code = main(["suggest", "--data", str(data_csv), "--no-mlflow", *extra])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and message in err
