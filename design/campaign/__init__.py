"""The closed-loop campaign: configuration (``config``), the runner (``runner``) and what it
drives: the services (``services``), the jobs' traffic with them (``traffic``), the results'
ingestion (``ingest``), the policy interface (``planning``: actions on samples), the shipped
policies (``policies``) and the admission of their actions (``rounds``); the recipe proposer
(``proposer``), starting/resuming (``session``) and the demo (``demo``)."""

__all__: list[str] = []
