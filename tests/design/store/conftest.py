"""Store fixtures: a fresh PostgreSQL database (shared with the integration tests)."""

from tests.integration.conftest import postgres_url

__all__ = ["postgres_url"]
