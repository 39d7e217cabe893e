"""Tests of the calibration: the paper's acceptance numbers, censoring, recovery, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import paper_table_path
from physics.errors import CalibrationError
from physics.process.calibration import (
    DEFAULT_FREE,
    CalibrationResult,
    batched_parameters,
    calibrate,
)
from physics.process.model import ProcessModel, ProcessParameters
from physics.process.parameters import WANG2022, WANG2022_PRIOR
from physics.process.parameters.wang2022 import PAPER_LOWER_BOUNDS
from physics.schema import MEASUREMENT_COLUMNS
from physics.table import read_table

PAPER_CSV = paper_table_path()

# The paper's numbers (Wang et al. 2022, 1000 C): x -> value.
PAPER_SIGMA_TOTAL = {0.0: 0.53, 0.1: 1.19, 0.2: 1.58, 0.3: 1.13}
PAPER_ELECTRONIC = {0.0: 0.153, 0.1: 0.071, 0.2: 0.018, 0.3: 0.022}
PAPER_DENSITY = {0.0: 0.737, 0.2: 0.998}
PAPER_R_INT = {0.0: 957.4, 0.2: 23.3}


@pytest.fixture(scope="module")
def paper_table() -> pd.DataFrame:
    return read_table(PAPER_CSV)


@pytest.fixture(scope="module")
def paper_fit(paper_table) -> CalibrationResult:
    return calibrate(paper_table, WANG2022_PRIOR, lower_bounds=PAPER_LOWER_BOUNDS)


def _check_acceptance(model: ProcessModel) -> None:
    for x, value in PAPER_SIGMA_TOTAL.items():
        assert float(model.predict(x, 1000.0)["sigma_total_ms_cm"]) == pytest.approx(value, rel=0.1)
    for x, value in PAPER_ELECTRONIC.items():
        assert float(model.predict(x, 1000.0)["electronic_fraction"]) == pytest.approx(
            value, rel=0.1
        )
    for x, value in PAPER_DENSITY.items():
        assert float(model.predict(x, 1000.0)["relative_density"]) == pytest.approx(value, rel=0.1)
    for x, value in PAPER_R_INT.items():
        assert float(model.predict(x, 1000.0)["r_int_ohm_cm2"]) == pytest.approx(value, rel=0.1)
    assert float(model.predict(0.2, 1000.0)["ccd_ma_cm2"]) == pytest.approx(0.55, rel=0.1)
    assert float(model.predict(0.0, 1000.0)["ccd_ma_cm2"]) < 0.55 / 2


def test_paper_table_is_a_valid_measurement_table(paper_table):
    assert list(paper_table.columns) == list(MEASUREMENT_COLUMNS)
    assert len(paper_table) == 5
    assert set(paper_table["source"]) == {"10.1039/d1ta10816f"}
    row0 = paper_table.set_index("sample_id").loc["wang2022-x0.0"]
    # sigma = L / R: 0.107 cm / 202.7 ohm cm2 = 0.528 mS/cm, the paper's 0.53.
    assert row0["thickness_cm"] / (117.7 + 85.0) * 1e3 == pytest.approx(0.53, abs=0.005)
    assert row0["sigma_bulk_ms_cm"] == pytest.approx(0.107 / 117.7 * 1e3, rel=1e-5)
    assert row0["sigma_gb_ms_cm"] == pytest.approx(0.107 / 85.0 * 1e3, rel=1e-5)


def test_calibration_reproduces_the_paper(paper_fit):
    assert paper_fit.success, paper_fit.message
    assert paper_fit.n_rows == 5
    _check_acceptance(paper_fit.model)
    assert paper_fit.rmse["sigma_total_ms_cm"] < 0.05


def test_stored_wang2022_is_the_calibration_result(paper_fit):
    for name in DEFAULT_FREE:
        assert getattr(WANG2022, name) == pytest.approx(
            getattr(paper_fit.params, name), rel=2e-3
        ), name
    _check_acceptance(ProcessModel(WANG2022))


def test_calibration_from_the_calibrated_set_stays_put(paper_table):
    fit = calibrate(paper_table, lower_bounds=PAPER_LOWER_BOUNDS)
    for name in DEFAULT_FREE:
        assert getattr(fit.params, name) == pytest.approx(getattr(WANG2022, name), rel=0.05), name


def _synthetic_table(params: ProcessParameters, recipes: list[tuple[float, float]]) -> pd.DataFrame:
    model = ProcessModel(params)
    rows = []
    for i, (x, t) in enumerate(recipes):
        pred = model.predict(x, t, 6.0)
        rows.append(
            {
                "sample_id": f"s{i}",
                "zbo_fraction": x,
                "sinter_temperature_c": t,
                "dwell_h": 6.0,
                "status": "ok",
                **{k: float(pred[k]) for k in ("sigma_total_ms_cm", "relative_density")},
            }
        )
    return pd.DataFrame(rows)


def test_recovers_a_known_parameter_without_prior():
    truth = WANG2022.replace(sigma_bulk_dense_ms_cm=3.2)
    table = _synthetic_table(truth, [(0.0, 1000.0), (0.2, 1000.0), (0.3, 1100.0)])
    fit = calibrate(table, WANG2022, free=["sigma_bulk_dense_ms_cm"], prior_weight=0.0)
    assert fit.params.sigma_bulk_dense_ms_cm == pytest.approx(3.2, rel=1e-4)
    assert fit.rmse["sigma_total_ms_cm"] < 1e-5


def test_strong_prior_keeps_the_start():
    truth = WANG2022.replace(sigma_bulk_dense_ms_cm=3.2)
    table = _synthetic_table(truth, [(0.2, 1000.0)])
    fit = calibrate(table, WANG2022, free=["sigma_bulk_dense_ms_cm"], prior_weight=1e4)
    assert fit.params.sigma_bulk_dense_ms_cm == pytest.approx(
        WANG2022.sigma_bulk_dense_ms_cm, rel=1e-3
    )


def _ccd_row(value: float, censored: bool) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "sample_id": "c",
                "zbo_fraction": 0.2,
                "sinter_temperature_c": 1000.0,
                "dwell_h": 6.0,
                "status": "ok",
                "ccd_ma_cm2": value,
                "ccd_censored": censored,
            }
        ]
    )


def test_censored_ccd_is_a_lower_bound():
    # The model predicts 0.55 at x = 0.2: a censored 0.3 ("survived 0.3") is satisfied.
    low = calibrate(_ccd_row(0.3, True), WANG2022, free=["ccd_max_ma_cm2"], prior_weight=0.0)
    assert low.params.ccd_max_ma_cm2 == pytest.approx(WANG2022.ccd_max_ma_cm2)
    assert low.rmse["ccd_ma_cm2"] == 0.0
    # A censored 1.0 pushes the prediction up to at least 1.0.
    high = calibrate(_ccd_row(1.0, True), WANG2022, free=["ccd_max_ma_cm2"], prior_weight=0.0)
    assert float(high.model.predict(0.2, 1000.0)["ccd_ma_cm2"]) >= 0.99
    # Uncensored 0.3 pulls it down to 0.3.
    exact = calibrate(_ccd_row(0.3, False), WANG2022, free=["ccd_max_ma_cm2"], prior_weight=0.0)
    assert float(exact.model.predict(0.2, 1000.0)["ccd_ma_cm2"]) == pytest.approx(0.3, rel=1e-3)


def test_cracked_rows_inform_p_crack_when_crack_parameters_are_free():
    rows = [
        {
            "sample_id": f"k{i}",
            "zbo_fraction": 0.3,
            "sinter_temperature_c": 1000.0,
            "dwell_h": 6.0,
            "status": "cracked",
        }
        for i in range(4)
    ]
    table = pd.DataFrame(rows)
    fit = calibrate(table, WANG2022, free=["crack_glass_x"], prior_weight=0.1)
    before = float(ProcessModel(WANG2022).predict(0.3, 1000.0)["p_crack"])
    after = float(fit.model.predict(0.3, 1000.0)["p_crack"])
    assert after > before + 0.3


def test_errors_are_clear(paper_table):
    with pytest.raises(CalibrationError, match="valid names"):
        calibrate(paper_table, free=["no_such_parameter"])
    with pytest.raises(CalibrationError, match="prior_weight"):
        calibrate(paper_table, prior_weight=-1.0)
    empty = paper_table.iloc[:0]
    with pytest.raises(CalibrationError, match="no usable measurement"):
        calibrate(empty)


def test_nothing_free_returns_the_start(paper_table):
    fit = calibrate(paper_table, WANG2022, free=[])
    assert fit.params == WANG2022 and fit.success
    assert np.isfinite(fit.rmse["sigma_total_ms_cm"])


def test_paper_lower_bound_is_the_default(paper_table):
    """NZSP-1250's Rint (> 582.5 ohm cm2) is a bound by default; {} makes it an exact value."""
    default = calibrate(paper_table, WANG2022_PRIOR)
    assert default.rmse["r_int_ohm_cm2"] == pytest.approx(
        calibrate(paper_table, WANG2022_PRIOR, lower_bounds=PAPER_LOWER_BOUNDS).rmse[
            "r_int_ohm_cm2"
        ]
    )
    exact = calibrate(paper_table, WANG2022_PRIOR, lower_bounds={})
    r_1250 = float(exact.model.predict(0.0, 1250.0)["r_int_ohm_cm2"])
    assert r_1250 < float(default.model.predict(0.0, 1250.0)["r_int_ohm_cm2"])


def test_the_model_broadcasts_batched_parameters_row_for_row():
    """The calibration's Jacobian evaluates m parameter sets in one call; each row of the
    batched prediction must equal the prediction of that parameter set alone."""
    base = ProcessParameters()
    rng = np.random.default_rng(0)
    scale = 1 + 0.05 * rng.standard_normal((4, len(DEFAULT_FREE)))
    values = {n: getattr(base, n) * scale[:, j] for j, n in enumerate(DEFAULT_FREE)}
    x = np.array([0.0, 0.12, 0.2, 0.3, 0.45])
    t_c = np.array([950.0, 1000.0, 1100.0, 1200.0, 1280.0])
    dwell = np.array([2.0, 6.0, 6.0, 12.0, 24.0])
    batched = ProcessModel(batched_parameters(base, values)).predict(x, t_c, dwell)
    for i in range(4):
        one = base.replace(**{n: float(v[i]) for n, v in values.items()})
        single = ProcessModel(one).predict(x, t_c, dwell)
        for key, value in single.items():
            got = np.broadcast_to(batched[key], (4, len(x)))[i]
            np.testing.assert_allclose(got, value, rtol=1e-12, err_msg=key)
