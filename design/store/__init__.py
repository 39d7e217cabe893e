"""Campaign persistence: the database (SQLAlchemy), its state machine (ledger) and the lease."""

__all__: list[str] = []
