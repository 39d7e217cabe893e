"""Alembic's entry point for the campaign database: everything happens in design.store.migrate."""

from design.store.migrate import run_env

run_env()
