"""The closed-loop campaign: configuration, the runner, starting/resuming, the demo."""

__all__: list[str] = []
