"""The ``gbs`` command line (typer). Only the console entry point imports this package."""

__all__: list[str] = []
