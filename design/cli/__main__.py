"""``python -m design.cli``: the same as the ``gbs`` console script."""

from design.cli.app import entrypoint

entrypoint()
