"""Fuzz the REST API against its own OpenAPI schema (schemathesis, in-process WSGI).

Every operation (reads and writes) gets a bounded number of generated requests as an
administrator (tests/api_fuzz.py): schema cases, valid and malformed, must never answer
5xx and must match the schema they document; hostile cases (NUL characters, `%` signs,
odd unicode, far dates, numbers beyond the database's ranges) must never answer 5xx.
Bounded so it runs in the normal suite (about 50 s on PostgreSQL); CI runs it against
PostgreSQL, where a NUL used to be a 500. `bench/fuzz_api.py` runs many more cases.

The schema comes from drf-spectacular's generator (what /api/schema/ serves) and each
operation is its own pytest case: schemathesis' lazy fixture loader does not support
this pytest version.
"""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from tests.api_fuzz import fuzz, load_schema, seed_data

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 50
HOSTILE_EXAMPLES = 40

SCHEMA, OPERATIONS = load_schema()


@pytest.fixture
def auth_headers(admin_user):
    return {"Authorization": f"Token {Token.objects.create(user=admin_user).key}"}


@pytest.fixture
def some_data(admin_user):
    return seed_data(admin_user)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_server_error_and_every_answer_matches_the_schema(path, method, auth_headers, some_data):
    fuzz(
        SCHEMA,
        path,
        method,
        headers=auth_headers,
        max_examples=MAX_EXAMPLES,
        hostile=False,
        known=some_data,
    )


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_hostile_values_never_cause_a_server_error(path, method, auth_headers, some_data):
    fuzz(
        SCHEMA,
        path,
        method,
        headers=auth_headers,
        max_examples=HOSTILE_EXAMPLES,
        hostile=True,
        known=some_data,
    )
