"""The ``gbs`` command line (typer). Only the console entry point imports this package."""
