"""MLflow: where runs go, campaign and suggestion runs, and the MLflow servers."""

__all__: list[str] = []
