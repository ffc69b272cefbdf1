"""How the schemathesis tests (tests/open311/, tests/security/) run their generated calls:
in-process against the WSGI application, inside the test's transaction, with the same
examples on every run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.schemas import OpenApiSchema

# Every check schemathesis ships, valid and invalid cases, and what the document cannot say
# (an operation's answers that depend on data it does not describe): the same file serves
# `schemathesis --config-file tests/schemathesis.toml run URL` against a running server.
CONFIG = Path(__file__).with_name("schemathesis.toml")

# Reproducible and bounded: the same examples on every run (a failure is reproducible), no
# example database, the explicit examples then generated ones; each test sets max_examples.
SCHEMA_RUN = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
STATEFUL_RUN = settings(SCHEMA_RUN, max_examples=60, stateful_step_count=6)


def schema_served_by(application: Any) -> OpenApiSchema:
    """The OpenAPI document ``application`` serves at /api/schema/, checked with CONFIG."""
    config = schemathesis.Config.from_path(CONFIG)
    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)


@contextmanager
def connection_kept_across_calls() -> Iterator[None]:
    """The WSGI handler closes the database connection when a request ends (Django's test
    client switches that off the same way): the test's transaction must outlive each call."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
