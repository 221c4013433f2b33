"""Fuzz the REST API against its own OpenAPI schema (schemathesis, in-process WSGI).

Every operation (reads and writes) gets a bounded number of generated requests, valid
and malformed, as an administrator: none may answer 5xx, and every answer must match the
schema it documents. Bounded so it runs in the normal suite (about 20 s).

The schema comes from drf-spectacular's generator (what /api/schema/ serves) and each
operation is its own pytest case: schemathesis' lazy fixture loader does not support
this pytest version.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from coordination.wsgi import application
from production.services import webhooks
from tests.factories import (
    LineFactory,
    ProductFactory,
    QuotaRecommendationFactory,
    ScheduleEntryFactory,
)
from tests.production.test_api_quotas import week

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 10

_RAW = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
SCHEMA = schemathesis.openapi.from_dict(_RAW)
SCHEMA.app = application
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in _RAW["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
)


@pytest.fixture
def auth_headers(admin_user):
    return {"Authorization": f"Token {Token.objects.create(user=admin_user).key}"}


@pytest.fixture
def some_data(admin_user):
    """A little of everything, so generated ids and names sometimes hit a real row."""
    line = LineFactory(name="Bottling 1")
    product = ProductFactory(sku="BEV-1001", production_line=line)
    for offset in (1, 2):
        QuotaRecommendationFactory(product=product, week=week(offset))
    ScheduleEntryFactory(product=product, week=week(1))
    endpoint = webhooks.webhook_endpoint_create(
        actor=admin_user, url="https://erp.example.com/hook"
    )
    # Paused: fuzzed schedule changes must not send deliveries off this machine.
    type(endpoint).objects.filter(pk=endpoint.pk).update(is_active=False)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_server_error_and_every_answer_matches_the_schema(path, method, auth_headers, some_data):
    operation = SCHEMA[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.call_and_validate(
            headers=auth_headers, checks=[not_a_server_error, response_schema_conformance]
        )

    fuzz()
