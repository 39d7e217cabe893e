"""Campaign persistence: the database (SQLAlchemy records, ``database``), how it is opened
(``engine``: read-only mode, schema checks), its Alembic migrations (``migrate``,
``migrations/``), the states (``states``), the state machine (``ledger``), the recording of a
round of actions (``actions``), samples and follow-ups (``samples``), instrument-hours
(``hours``) and the lease (``lease``)."""

__all__: list[str] = []
