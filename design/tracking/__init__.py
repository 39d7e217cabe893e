"""MLflow: where runs go, campaign and suggestion runs, and the MLflow servers."""
