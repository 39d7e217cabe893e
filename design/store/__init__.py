"""Campaign persistence: the database (SQLAlchemy), its state machine (ledger) and the lease."""
