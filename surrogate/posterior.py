"""The surrogate's posterior over the three objectives as one BoTorch ``Model``.

:class:`ObjectivesModel` stacks one single-output model per objective (a ``SingleTaskGP``
for the gp strategy, a :class:`surrogate.stacking.StackedGP` for physics-gp), in the order
of :data:`physics.schema.OBJECTIVES`, in model space (``log sigma``, ``log CCD``,
``logit t_e``; not negated: t_e's logit is to be minimized). Its ``posterior`` is a
``GPyTorchPosterior`` whose distribution is a ``MultitaskMultivariateNormal`` with
independent outputs (as BoTorch's ``ModelListGP`` builds it), so every BoTorch
acquisition function and sampler can use it, and ``output_indices=[k]`` gives one
objective's ``MultivariateNormal`` (its ``q x q`` covariance, without the ``3q x 3q``
block-diagonal one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultitaskMultivariateNormal
from torch.nn import ModuleList

from surrogate.errors import ModelError

__all__ = ["ObjectivesModel"]


class ObjectivesModel(Model):
    """Independent single-output GPs, one per objective, as one multi-output model.

    Args:
        models: one fitted single-output model per objective, each with a Gaussian
            (``GPyTorchPosterior``) posterior.
    """

    def __init__(self, models: Sequence[Model]) -> None:
        super().__init__()
        if not models:
            raise ModelError("ObjectivesModel needs at least one model")
        self.models = ModuleList(models)

    @property
    def num_outputs(self) -> int:
        return len(self.models)

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(  # type: ignore[override]
        self,
        X: torch.Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | torch.Tensor = False,
        posterior_transform: Any = None,
        **kwargs: Any,
    ) -> GPyTorchPosterior:
        """Joint posterior at ``X`` (batch x q x d) of the outputs ``output_indices``."""
        idx = list(range(len(self.models))) if output_indices is None else list(output_indices)
        mvns = []
        for j, i in enumerate(idx):
            noise = observation_noise
            if isinstance(observation_noise, torch.Tensor):
                noise = observation_noise[..., j : j + 1]
            post = self.models[i].posterior(X, observation_noise=noise)
            if not isinstance(post, GPyTorchPosterior):
                raise ModelError("ObjectivesModel needs models with Gaussian posteriors")
            mvns.append(post.distribution)
        if len(mvns) == 1:
            out = GPyTorchPosterior(mvns[0])
        else:
            out = GPyTorchPosterior(MultitaskMultivariateNormal.from_independent_mvns(mvns))
        return out if posterior_transform is None else posterior_transform(out)
