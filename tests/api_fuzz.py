"""Fuzzing the REST API against its own OpenAPI schema: what the fuzz test in the suite
(tests/test_api_schema_fuzz.py) and the longer run before resolving API work
(bench/fuzz_api.py) share.

Two kinds of generated requests per operation, sent in-process to the WSGI app:

- **schema**: schemathesis' own cases, valid and malformed, from the schema.
- **hostile**: the same cases with some of their values (path parameters, query
  parameters, JSON body leaves and keys) swapped for input that broke Tandem before:
  NUL characters, `%` format signs, odd unicode (bidi overrides, zero-width, byte-order
  marks, emoji, unassigned code points), very long text, dates far outside the accepted
  window and numbers beyond every database integer and decimal range.

Neither may ever answer 5xx; schema cases must also answer what the schema documents.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import schemathesis
from django.conf import settings as django_settings
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from coordination.wsgi import application

HOSTILE_TEXT = [
    "\x00",
    "BEV-1001\x00",
    "%",
    "%s",
    "%(value)s",
    "100%%",
    "\u202eevil",
    "\ufeffBOM",
    "a\u200bb",
    "\U0001f600\U0001f4a9",
    "\U000e0001",
    "\x7f\x1b[31m",
    "x" * 5_000,
    " ",
    "0001-01-01",
    "9999-12-31",
    "1999-W52",
    "2999-W01",
    "0000-W00",
    "../../etc/passwd",
    "null",
]
HOSTILE_NUMBERS = [
    2**31,
    -(2**31) - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    -(10**30),
    1e308,
    -1e308,
    1e-300,
    0.5,
]


def hostile_values() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.sampled_from(HOSTILE_NUMBERS),
        st.text(st.characters(codec="utf-8"), max_size=12),
        st.integers(min_value=-(2**70), max_value=2**70),
    )


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _mutate(value, draw, *, as_text: bool, keys: bool = True):
    """`value` with some leaves (and, with `keys`, keys) drawn from hostile_values()."""
    if isinstance(value, dict):
        mutated = {}
        for key, inner in value.items():
            if keys and draw(st.integers(0, 7)) == 0:
                key = _as_text(draw(hostile_values()))
            mutated[key] = _mutate(inner, draw, as_text=as_text)
        return mutated
    if isinstance(value, list):
        return [_mutate(inner, draw, as_text=as_text) for inner in value]
    if draw(st.booleans()):
        replacement = draw(hostile_values())
        return _as_text(replacement) if as_text else replacement
    return value


def make_hostile(case, draw) -> None:
    """Swap some of the case's values for hostile ones, in place."""
    if case.path_parameters:
        mutated = _mutate(case.path_parameters, draw, as_text=True, keys=False)
        # Escaped: a "?" or "/" must stay inside its path segment.
        case.path_parameters = {key: quote(str(value), safe="") for key, value in mutated.items()}
    query = dict(case.query or {})
    if draw(st.booleans()):
        query[_as_text(draw(hostile_values()))] = _as_text(draw(hostile_values()))
    case.query = _mutate(query, draw, as_text=True) or None
    if isinstance(case.body, dict | list):
        case.body = _mutate(case.body, draw, as_text=False)


def seed_data(admin) -> dict[str, list[str]]:
    """A little of everything, so cases reach real rows: returns the path parameter
    values that name them ({"sku": ["BEV-1001"], "id": [...], ...})."""
    from coordination.weeks import add_weeks, current_week
    from demand.models import LaunchPlan, LikeProduct, Succession
    from production.models import WebhookEndpoint
    from tests.factories import (
        CustomerRequestFactory,
        LineFactory,
        ProductFactory,
        PromotionFactory,
        QuotaRecommendationFactory,
        ScheduleEntryFactory,
        SpecificationFactory,
    )
    from tests.production.test_api_quotas import week

    line = LineFactory(name="Bottling 1")
    product = ProductFactory(sku="BEV-1001", production_line=line)
    for offset in (1, 2):
        QuotaRecommendationFactory(product=product, week=week(offset))
    ScheduleEntryFactory(product=product, week=week(1))
    specification = SpecificationFactory(product=product, author=admin)
    request = CustomerRequestFactory(product=product, created_by=admin)
    promotion = PromotionFactory()
    # Paused, and written directly (the service would resolve the host): fuzzed
    # schedule changes must not send deliveries off this machine.
    endpoint = WebhookEndpoint.objects.create(
        url="https://erp.example.com/hook", created_by=admin, is_active=False
    )
    # A new product launched like BEV-1001, which it replaces later: the launch-plan and
    # succession endpoints then name rows that exist.
    new = ProductFactory(sku="BEV-1002", production_line=line, lifecycle="concept")
    LaunchPlan.objects.create(product=new, launch_week=add_weeks(current_week(), 2))
    LikeProduct.objects.create(product=new, like=product)
    Succession.objects.create(
        product=product, successor=new, switch_week=add_weeks(current_week(), 6)
    )
    ids = sorted({str(pk) for pk in (line.pk, request.pk, promotion.pk, endpoint.pk)})
    return {
        "sku": [product.sku, new.sku],
        "product_sku": [product.sku],
        "number": [str(specification.number)],
        "id": ids,
    }


def _known_path(case, draw, known: dict[str, list[str]]) -> None:
    """Half the time, path parameters that name real rows where the seed has some."""
    if not case.path_parameters or not draw(st.booleans()):
        return
    case.path_parameters = {
        key: draw(st.sampled_from(known[key])) if known.get(key) else value
        for key, value in case.path_parameters.items()
    }


def load_schema():
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = application
    operations = sorted(
        (path, method.upper())
        for path, item in raw["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )
    return schema, operations


@dataclass
class Outcome:
    """What fuzzing one operation found: cases run, failures, answers by status class."""

    cases: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)


def fuzz(
    schema,
    path: str,
    method: str,
    *,
    headers: dict,
    max_examples: int,
    hostile: bool,
    derandomize: bool = True,
    keep_going: bool = False,
    before_case: Callable[[], None] | None = None,
    known: dict[str, list[str]] | None = None,
) -> Outcome:
    """Run up to `max_examples` generated cases against one operation.

    Without `keep_going` the first failure raises (hypothesis shrinks it first: the
    suite's way); with it every failure is recorded in the Outcome and the run goes on
    (the benchmark's way: it counts them). `known` (from seed_data) steers half the
    cases' path parameters to real rows."""
    operation = schema[path][method]
    checks = [not_a_server_error] if hostile else [not_a_server_error, response_schema_conformance]
    outcome = Outcome()

    @given(case=operation.as_strategy(), data=st.data())
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case, data):
        if known:
            _known_path(case, data.draw, known)
        if hostile:
            make_hostile(case, data.draw)
        if before_case is not None:
            before_case()
        outcome.cases += 1
        try:
            response = case.call(headers=headers)
            outcome.statuses[f"{response.status_code // 100}xx"] += 1
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
            if not keep_going:
                raise
            outcome.failures.append(f"{type(exc).__name__}: {str(exc).strip()[:300]}")

    started = time.perf_counter()
    # schemathesis calls the app as host "localhost", which DEBUG off refuses (400):
    # without this, every case would stop there.
    with override_settings(ALLOWED_HOSTS=[*django_settings.ALLOWED_HOSTS, "localhost"]):
        run()
    outcome.seconds = time.perf_counter() - started
    return outcome
