"""design: recipe space, acquisition, the closed-loop campaign, MLflow logging and the CLI.

Heavy modules (BoTorch, MLflow, the campaign loop) are imported where they are used, so that
``gbs --help`` stays quick; the recipe space is re-exported here.
"""

from physics.schema import Axis, RecipeSpace

__all__ = ["Axis", "RecipeSpace"]
