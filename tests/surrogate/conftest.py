"""Shared settings for the surrogate tests: two torch threads."""

from __future__ import annotations

import torch

torch.set_num_threads(2)
