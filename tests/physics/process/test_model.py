"""Tests of the process model: pinned values, broadcasting, torch, and the paper's facts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from physics.errors import ConfigError
from physics.process.model import PROPERTY_KEYS, ProcessModel, ProcessParameters
from physics.process.parameters import WANG2022, WANG2022_PRIOR


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    return ProcessModel()


def test_property_keys_are_the_contract():
    assert PROPERTY_KEYS == (
        "relative_density",
        "sigma_bulk_ms_cm",
        "sigma_gb_ms_cm",
        "sigma_total_ms_cm",
        "electronic_fraction",
        "r_int_ohm_cm2",
        "ccd_ma_cm2",
        "activation_energy_ev",
        "p_crack",
    )


def test_defaults_are_the_wang2022_set():
    assert ProcessParameters() == WANG2022
    assert ProcessModel().params == WANG2022


def test_every_parameter_has_unit_doc_and_bounds_around_its_default():
    bounds, units, docs = (
        ProcessParameters.bounds(),
        ProcessParameters.units(),
        ProcessParameters.docs(),
    )
    assert list(bounds) == ProcessParameters.names()
    for name in ProcessParameters.names():
        lo, hi = bounds[name]
        assert lo < hi, name
        assert units[name] and docs[name], name
        for params in (WANG2022, WANG2022_PRIOR):
            assert lo <= getattr(params, name) <= hi, name


def test_parameters_are_frozen_and_replace_checks_names():
    p = ProcessParameters()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.archie_exponent = 2.0  # type: ignore[misc]
    assert p.replace(archie_exponent=2.0).archie_exponent == 2.0
    with pytest.raises(ConfigError, match="archie_exponent"):
        p.replace(archie_exponant=2.0)
    with pytest.raises(ConfigError, match="must be a number"):
        ProcessParameters(archie_exponent=float("nan"))


def test_model_rejects_wrong_params_type():
    with pytest.raises(ConfigError, match="ProcessParameters"):
        ProcessModel({"archie_exponent": 3.0})  # type: ignore[arg-type]


def test_pinned_values_at_the_paper_recipes(model):
    """Values of the calibrated model at x = 0 and 0.2, 1000 C, 6 h (change = recalibration)."""
    p0 = model.predict(0.0, 1000.0)
    p2 = model.predict(0.2, 1000.0)
    assert float(p0["relative_density"]) == pytest.approx(0.7370, abs=2e-3)
    assert float(p0["sigma_total_ms_cm"]) == pytest.approx(0.529, rel=0.01)
    assert float(p0["sigma_bulk_ms_cm"]) == pytest.approx(0.107 / 117.7 * 1e3, rel=0.02)
    assert float(p0["r_int_ohm_cm2"]) == pytest.approx(957.4, rel=0.01)
    assert float(p2["sigma_total_ms_cm"]) == pytest.approx(1.58, rel=0.01)
    assert float(p2["electronic_fraction"]) == pytest.approx(0.018, rel=0.02)
    assert float(p2["ccd_ma_cm2"]) == pytest.approx(0.55, rel=0.01)
    assert float(p2["activation_energy_ev"]) == pytest.approx(0.27, abs=0.005)


def test_series_rule_and_ranges(model):
    x, t = np.meshgrid(np.linspace(0, 0.5, 11), np.linspace(900, 1300, 9), indexing="ij")
    p = model.predict(x, t, 6.0)
    inv = 1 / p["sigma_bulk_ms_cm"] + 1 / p["sigma_gb_ms_cm"]
    np.testing.assert_allclose(p["sigma_total_ms_cm"], 1 / inv, rtol=1e-12)
    for key in ("relative_density", "electronic_fraction", "p_crack"):
        assert np.all((p[key] >= 0) & (p[key] <= 1)), key
    for key in PROPERTY_KEYS:
        assert np.all(np.isfinite(p[key])), key
    assert np.all(p["sigma_total_ms_cm"] > 0) and np.all(p["ccd_ma_cm2"] > 0)


def test_broadcasting_shapes(model):
    p = model.predict(np.array([[0.0], [0.1], [0.2]]), np.array([900.0, 1000.0, 1100.0, 1200.0]))
    for key in PROPERTY_KEYS:
        assert isinstance(p[key], np.ndarray)
        assert p[key].shape == (3, 4), key
    scalar = model.predict(0.2, 1000.0, 6.0)
    assert isinstance(scalar["p_crack"], np.ndarray) and scalar["p_crack"].shape == ()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_in_torch_out_differentiable(model, dtype):
    x = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.45], dtype=dtype, requires_grad=True)
    t = torch.tensor([950.0, 1000.0, 1100.0, 1200.0, 1290.0], dtype=dtype, requires_grad=True)
    p = model.predict(x, t, 6.0)
    ref = model.predict(x.detach().numpy(), t.detach().numpy(), 6.0)
    for key in PROPERTY_KEYS:
        assert isinstance(p[key], torch.Tensor) and p[key].dtype == dtype, key
        np.testing.assert_allclose(
            p[key].detach().numpy(), ref[key], rtol=1e-4, atol=1e-7, err_msg=key
        )
    p["sigma_total_ms_cm"].sum().backward()
    assert torch.all(torch.isfinite(x.grad)) and torch.all(torch.isfinite(t.grad))
    assert x.grad[1] > 0  # more ZBO helps at x = 0.1


def test_gradient_matches_finite_difference(model):
    x = torch.tensor([0.17], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([1050.0], dtype=torch.float64)
    model.predict(x, t)["sigma_total_ms_cm"].sum().backward()
    h = 1e-6
    fd = (
        model.predict(0.17 + h, 1050.0)["sigma_total_ms_cm"]
        - model.predict(0.17 - h, 1050.0)["sigma_total_ms_cm"]
    ) / (2 * h)
    assert float(x.grad[0]) == pytest.approx(float(fd), rel=1e-5)


def test_optimum_near_x_02_at_1000c(model):
    x = np.round(np.arange(0, 0.51, 0.01), 2)
    sigma = model.predict(x, 1000.0)["sigma_total_ms_cm"]
    assert 0.14 <= x[np.argmax(sigma)] <= 0.24
    assert sigma.max() > 2.5 * sigma[0]
    assert sigma[30] < 0.8 * sigma.max()  # excess ZBO (x = 0.3) hurts


def test_bare_nzsp_needs_high_temperature(model):
    t = np.array([1000.0, 1100.0, 1200.0, 1250.0])
    rho = model.predict(0.0, t)["relative_density"]
    assert rho[0] < 0.76
    assert 0.74 <= rho[1] <= 0.88
    assert rho[2] == pytest.approx(0.93, abs=0.02)
    assert rho[3] > 0.95
    assert model.predict(0.2, 1000.0)["relative_density"] > 0.99


def test_na_loss_degrades_above_1230c(model):
    t = np.arange(1100.0, 1301.0, 10.0)
    p = model.predict(0.0, t)
    t_best = t[np.argmax(p["sigma_total_ms_cm"])]
    assert 1200.0 <= t_best <= 1260.0
    assert p["electronic_fraction"][-1] > 1.3 * p["electronic_fraction"][0]
    bulk = model.predict(0.2, np.array([1150.0, 1300.0]))["sigma_bulk_ms_cm"]
    assert bulk[1] < 0.8 * bulk[0]


def test_sealing_lowers_electronic_fraction_and_rint(model):
    p = model.predict(np.array([0.0, 0.1, 0.2]), 1000.0)
    assert np.all(np.diff(p["electronic_fraction"]) < 0)
    assert np.all(np.diff(p["r_int_ohm_cm2"]) < 0)
    assert np.all(np.diff(p["ccd_ma_cm2"]) > 0)
    bare_1250 = model.predict(0.0, 1250.0)
    assert float(bare_1250["r_int_ohm_cm2"]) > 25 * 23.3


def test_p_crack_grows_with_glass_and_heat(model):
    x = np.array([0.0, 0.2, 0.3, 0.5])
    p1000 = model.predict(x, 1000.0)["p_crack"]
    p1200 = model.predict(x, 1200.0)["p_crack"]
    assert np.all(np.diff(p1000) > 0) and np.all(p1200 > p1000)
    assert p1000[2] < 0.15  # the paper's x = 0.3 pellet survived 1000 C
    assert p1200[3] > 0.9
    assert float(model.predict(0.0, 1300.0)["p_crack"]) > float(
        model.predict(0.0, 1200.0)["p_crack"]
    )


def test_dwell_diminishing_return(model):
    rho = model.predict(0.0, 1000.0, np.array([1.0, 6.0, 12.0, 24.0]))["relative_density"]
    gains = np.diff(rho)
    assert np.all(gains > 0)
    assert gains[2] / 12.0 < gains[0] / 5.0
    te = model.predict(0.0, 1280.0, np.array([2.0, 24.0]))["electronic_fraction"]
    assert te[1] > te[0]  # longer dwell, more Na loss


def test_intermediates_expose_state(model):
    s = model.intermediates(np.array([0.0, 0.2]), 1000.0)
    assert s["seal_coverage"][0] == 0.0 and s["seal_coverage"][1] > 0.9
    assert float(model.intermediates(0.0, 1000.0)["na_loss"]) < 1e-3
