"""The linearized process model: value, Jacobian, mean and kernel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from physics.process.model import ProcessModel, ProcessParameters
from physics.schema import OBJECTIVES
from surrogate.base import DEFAULT_BOUNDS, to_model_space
from surrogate.physics_kernel import (
    LINEARIZED,
    PRIOR_SD_Z,
    LinearizedPhysics,
    PhysicsFeatureKernel,
    PhysicsFeatureMean,
)

RECIPES = np.array([[0.0, 900.0, 6.0], [0.2, 1000.0, 6.0], [0.35, 1150.0, 6.0], [0.1, 1280.0, 6.0]])
XN = (RECIPES - DEFAULT_BOUNDS[0]) / (DEFAULT_BOUNDS[1] - DEFAULT_BOUNDS[0])


@pytest.mark.parametrize("name", OBJECTIVES)
def test_value_is_the_process_model_in_model_space(name):
    lin = LinearizedPhysics(ProcessParameters(), name, DEFAULT_BOUNDS)
    value, jac = lin.value_and_jacobian(XN)
    truth = ProcessModel().predict(RECIPES[:, 0], RECIPES[:, 1], RECIPES[:, 2])[name]
    np.testing.assert_allclose(value, to_model_space(name, truth), rtol=1e-12)
    assert jac.shape == (len(XN), len(LINEARIZED))
    np.testing.assert_allclose(lin.mean(XN), value)  # linearized at the prior centre


def test_jacobian_predicts_a_small_parameter_move():
    """phys(z + dz) ~ phys(z) + J dz for a move of 1 % of every range."""
    name = "sigma_total_ms_cm"
    lin = LinearizedPhysics(ProcessParameters(), name, DEFAULT_BOUNDS)
    dz = 0.01 * np.random.default_rng(0).choice([-1.0, 1.0], len(LINEARIZED))
    moved = lin.at(lin.z_star + dz)
    value, jac = lin.value_and_jacobian(XN)
    np.testing.assert_allclose(moved.value_and_jacobian(XN)[0], value + jac @ dz, atol=2e-3)
    # linearized at the moved point, the mean still predicts the literature model to first order
    np.testing.assert_allclose(moved.mean(XN), value, atol=2e-3)


def test_z_round_trip_and_bounds():
    lin = LinearizedPhysics(ProcessParameters(), "ccd_ma_cm2", DEFAULT_BOUNDS)
    values = lin.from_z(lin.z_star)
    lit = np.array([getattr(ProcessParameters(), n) for n in LINEARIZED])
    np.testing.assert_allclose(values, lit, rtol=1e-12)
    assert ((lin.z_star >= 0) & (lin.z_star <= 1)).all()
    clipped = lin.at(np.full(len(LINEARIZED), 2.0))
    np.testing.assert_allclose(clipped.z_star, 1.0)


def test_kernel_is_the_scaled_gram_matrix_of_the_features():
    lin = LinearizedPhysics(ProcessParameters(), "electronic_fraction", DEFAULT_BOUNDS)
    kernel = PhysicsFeatureKernel(lin)
    kernel.set_scale(2.0)
    X = torch.as_tensor(XN, dtype=torch.double)
    _, jac = lin.value_and_jacobian(XN)
    expected = 2.0 * PRIOR_SD_Z**2 * jac @ jac.T
    with torch.no_grad():
        K = kernel(X, X).to_dense().numpy()
        diag = kernel(X, X, diag=True).numpy()
    np.testing.assert_allclose(K, expected, rtol=1e-10)
    np.testing.assert_allclose(diag, np.diag(expected), rtol=1e-10)
    mean = PhysicsFeatureMean(lin, offset=0.5)
    with torch.no_grad():
        np.testing.assert_allclose(mean(X).numpy(), lin.mean(XN) + 0.5)
