"""The product's settings with the server-stack options of ``bench.common.Stack`` applied from
the environment (``Stack.env()``): what ``bench/stack_options.py`` and ``--renderer``,
``--binding``, ``--no-health-checks``, ``--middleware`` of the benches measure. Never used
outside the benches."""

from __future__ import annotations

import os

from backend.settings import *  # noqa: F403  (the product's settings, then the options)
from backend.settings import DATABASES, MIDDLEWARE, REST_FRAMEWORK

if os.environ.get("BENCH_RENDERER", "drf") == "orjson":
    REST_FRAMEWORK = {
        **REST_FRAMEWORK,
        "DEFAULT_RENDERER_CLASSES": ["bench.orjson_json.ORJSONRenderer"],
        "DEFAULT_PARSER_CLASSES": [
            "bench.orjson_json.ORJSONParser",
            *REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"][1:],
        ],
    }

if os.environ.get("BENCH_BINDING", "client") == "prepared":
    # Parameters bound by the server; a statement run 5 times on a connection is prepared
    # (psycopg's default threshold; Django turns it off unless OPTIONS names it).
    DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)

if os.environ.get("BENCH_HEALTH_CHECKS", "1") == "0":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

if os.environ.get("BENCH_MIDDLEWARE", "full") == "api":
    # The most an API request could skip: the pages' sessions, sign-in, messages, CSRF
    # cookie and framing header (the bench's requests are all API calls).
    PAGES_ONLY = {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    }
    MIDDLEWARE = [name for name in MIDDLEWARE if name not in PAGES_ONLY]
