"""REST: the accepted production schedule, for ERPs and shop-floor systems to pull.

GET /api/v1/schedules/?line=<id or name>&product=<sku>&from=<week>&to=<week>
GET /api/v1/schedules/?changed_since=<schedule version>
GET /api/v1/schedules/load/?line=<id or name>&from=<week>&to=<week>

Versions. Every accept or override is a ScheduleRevision; its id is the schedule
version. Each response carries `X-Schedule-Version` (the version now) and an `ETag`
derived from that version, the request's query (cursor included) and the caller; send it
back as `If-None-Match` and an unchanged answer is `304 Not Modified` with no body.

Full pull (no changed_since): the current entries, one per product and week.
Incremental pull (changed_since=N): every entry created after version N and every entry
superseded after it, the superseded ones with `"superseded": true` and `superseded_by`.
A mirror keyed by entry `id` converges by upserting current entries and deleting
superseded ones, then storing the body's `schedule_version` as the next changed_since.
A revision number rather than a timestamp: it is exact (no clock skew, no two changes in
the same microsecond) and it is the same number the ETag and the header carry.

Pages. Cursor pagination ordered by entry `id` in both modes: ids are unique, never
change and only grow, so a walk neither repeats nor skips an entry, and entries written
during a walk land on a later page. `page_size` from 1 to 10,000 (default 100; above
10,000 is a 400 naming `page_size`): bulk clients pulling a whole plant ask for large
pages, fewer round trips. Follow `next`. Rows are read as tuples and formatted without a
model instance per row (schedule_rows.py), so a full pull costs little more than the
database's read of the same columns.
`schedule_version` in the body is the version when the walk's first page was read (the
cursor carries it), so storing the one from the last page is also right: whatever
changed during the walk comes again in the next incremental pull.

CSV. `?format=csv` or `Accept: text/csv` answers the same rows and columns as the JSON
`results`, with the same filters, cursor and changed_since; the next page is in the
`Link: <...>; rel="next"` header (JSON answers carry it too) and the version in
`X-Schedule-Version`. Errors stay JSON. On PostgreSQL a CSV page is written by the
database itself (`COPY ... TO STDOUT`, production/selectors/schedule_csv.py), the same
bytes as the Python formatting.

Load. `schedules/load/` answers, per line and week, the line hours the accepted schedule
needs (`accepted_hours`: units x hours per unit), the week's capacity and
`over_capacity_hours` (0 when it fits), so a client sees which weeks were planned over
capacity by a decision. Not paged (lines x at most 104 weeks) and not versioned: a
capacity change moves it without a new schedule version.
"""

from __future__ import annotations

import hashlib
from base64 import b64decode, b64encode
from urllib import parse

from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.utils.urls import replace_query_param

from production import serializers
from production.api.schedule_rows import FIELDS, csv_table, json_rows
from production.renderers import CSVErrorsAsJSON, CSVRenderer, CSVTable, RowsAsJSONText
from production.selectors import schedule as selectors
from production.selectors.load import line_week_loads
from production.selectors.schedule_csv import CopiedRows, copy_available

VERSION_HEADER = "X-Schedule-Version"
MAX_PAGE_SIZE = 10_000


def _is_id(value) -> bool:
    return (
        isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and int(value) <= serializers.MAX_ID
    )


class ScheduleCursorPagination(CursorPagination):
    """Cursor pages by entry id; the cursor also carries the version the walk began at."""

    ordering = ("id",)
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    walk_version: int | None = None  # set by the view before paginating

    def get_page_size(self, request):
        """The asked size; 400 above MAX_PAGE_SIZE (a client asking for more rows than it
        gets would otherwise read a short page as the end). Text or 0 means the default,
        as DRF has it."""
        raw = request.query_params.get(self.page_size_query_param, "").strip()
        if raw.isascii() and raw.isdigit() and (len(raw) > 6 or int(raw) > MAX_PAGE_SIZE):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Ask for at most {MAX_PAGE_SIZE:,} rows per page; got {raw[:20]}."
                    ]
                }
            )
        return super().get_page_size(request)

    def _get_position_from_instance(self, instance, ordering):
        # Pages are tuples of selectors.schedule.SCHEDULE_ROW_COLUMNS, or CSV lines
        # (selectors.schedule_csv.CopiedRows); the id comes first in both.
        if isinstance(instance, bytes):
            return instance[: instance.index(b",")].decode()
        return str(instance[0])

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page, 1 to {MAX_PAGE_SIZE:,} (default {self.page_size})."
                )
                parameter["schema"] = {
                    **parameter.get("schema", {}),
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                }
        return parameters

    def _tokens(self, request) -> dict[str, list[str]] | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            return parse.parse_qs(
                b64decode(encoded.encode("ascii")).decode("ascii"), keep_blank_values=True
            )
        except ValueError as exc:  # binascii.Error and UnicodeError are ValueErrors
            raise NotFound(self.invalid_cursor_message) from exc

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        # DRF passes the position straight to the ORM: a forged one must not become a 500.
        if cursor is not None and cursor.position is not None and not _is_id(cursor.position):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def version_in_cursor(self, request) -> int | None:
        tokens = self._tokens(request)
        if tokens is None or "v" not in tokens:
            return None
        value = tokens["v"][0]
        if not _is_id(value):
            raise NotFound(self.invalid_cursor_message)
        return int(value)

    def encode_cursor(self, cursor):
        tokens = {}
        if cursor.offset != 0:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        if self.walk_version is not None:
            tokens["v"] = str(self.walk_version)
        encoded = b64encode(parse.urlencode(tokens).encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def get_paginated_response(self, data):
        return Response(
            {
                "schedule_version": self.walk_version,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["schedule_version"] = {
            "type": "integer",
            "description": "Store it and pass it as changed_since in the next pull.",
            "example": 412,
        }
        response["required"] = ["schedule_version", "results"]
        return response


def schedule_etag(request, version: int) -> str:
    """Weak: equal for semantically equal answers (same version, query, caller and
    representation: JSON and CSV of one page differ)."""
    query = sorted((key, value) for key, values in request.query_params.lists() for value in values)
    representation = getattr(getattr(request, "accepted_renderer", None), "format", "")
    key = f"{request.path}?{parse.urlencode(query)}|{request.user.pk}|{representation}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f'W/"{version}-{digest}"'


def _weak(etag: str) -> str:
    return etag.removeprefix("W/")


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = parse_etags(if_none_match)
    return "*" in candidates or any(_weak(tag) == _weak(etag) for tag in candidates)


_ENTRY_EXAMPLE = {
    "id": 9041,
    "product": "TEA-GREEN-250",
    "line": "Line 1",
    "week": "2026-W50",
    "week_start": "2026-12-07",
    "units": 1200,
    "kind": "accepted",
    "reason": "",
    "recommended_units": 1200,
    "revision": 412,
    "accepted_by": "petra",
    "accepted_at": "2026-11-30T09:14:03Z",
    "superseded": False,
    "superseded_by": None,
    "superseded_at": None,
}
_CSV_EXAMPLE = (
    "id,product,line,week,week_start,units,kind,reason,recommended_units,revision,"
    "accepted_by,accepted_at,superseded,superseded_by,superseded_at\r\n"
    "9041,TEA-GREEN-250,Line 1,2026-W50,2026-12-07,1200,accepted,,1200,412,petra,"
    "2026-11-30T09:14:03Z,false,,\r\n"
)


class ScheduleViewSet(CSVErrorsAsJSON, viewsets.GenericViewSet):
    """The accepted production schedule (see the module docstring)."""

    required_scopes = {"read": "schedules:read"}
    required_permissions = {
        "list": ["production.view_scheduleentry"],
        "load": ["production.view_scheduleentry"],
    }
    serializer_class = serializers.ScheduleEntrySerializer
    pagination_class = ScheduleCursorPagination
    renderer_classes = [RowsAsJSONText, CSVRenderer]
    filter_backends: list = []  # no ?ordering=: the cursor needs the id order

    def get_queryset(self):
        query = serializers.ScheduleQuerySerializer(query_params=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.schedule_rows(**query.selector_filters())

    @extend_schema(
        summary="The accepted production schedule",
        description=(
            "Full pull: the current entries, one per product and week. Incremental pull "
            "(`changed_since=N`): entries created or superseded after schedule version N, "
            "superseded ones with `superseded: true`. Cursor pages ordered by entry id; "
            "follow `next`. `ETag` + `If-None-Match` gives 304 when nothing changed; "
            "`X-Schedule-Version` is the version now. `?format=csv` or `Accept: text/csv` "
            'answers CSV with the same rows and columns, next page in `Link: <...>; rel="next"`. '
            "API clients need the `schedules:read` scope."
        ),
        parameters=[
            OpenApiParameter("line", str, description="A line id or name."),
            OpenApiParameter("product", str, description="A SKU."),
            OpenApiParameter("from", str, description="First week, e.g. 2026-W48."),
            OpenApiParameter("to", str, description="Last week (inclusive)."),
            OpenApiParameter(
                "changed_since",
                int,
                description="A schedule version: entries created or superseded after it.",
            ),
        ],
        responses={
            (200, "application/json"): serializers.ScheduleEntrySerializer(many=True),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The same rows and columns as the JSON results; next page "
                'in the `Link: <...>; rel="next"` header.',
            ),
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)."),
        },
        examples=[
            OpenApiExample(
                "Full pull, first page",
                summary="GET /api/v1/schedules/?line=Line 1&from=2026-W48",
                value=_ENTRY_EXAMPLE,
                response_only=True,
                status_codes=["200"],
                media_type="application/json",
            ),
            OpenApiExample(
                "Incremental pull: a superseded entry",
                summary="GET /api/v1/schedules/?changed_since=411",
                value={
                    **_ENTRY_EXAMPLE,
                    "id": 8890,
                    "units": 900,
                    "revision": 398,
                    "superseded": True,
                    "superseded_by": 9041,
                    "superseded_at": "2026-11-30T09:14:03Z",
                },
                response_only=True,
                status_codes=["200"],
                media_type="application/json",
            ),
            OpenApiExample(
                "CSV",
                summary="GET /api/v1/schedules/?format=csv",
                value=_CSV_EXAMPLE,
                response_only=True,
                status_codes=["200"],
                media_type="text/csv",
            ),
        ],
    )
    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()  # validates the query: a bad one is 400, not 304
        self.paginator.get_page_size(request)  # so is a page size over the maximum
        walk_version = self.paginator.version_in_cursor(request)
        # Read the version before the entries: a change landing in between is then sent
        # again next time instead of being missed.
        version = selectors.schedule_version()
        headers = {
            "ETag": schedule_etag(request, version),
            VERSION_HEADER: str(version),
            "Cache-Control": "private, no-cache",
        }
        if etag_matches(request.headers.get("If-None-Match"), headers["ETag"]):
            response = Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        else:
            self.paginator.walk_version = version if walk_version is None else walk_version
            if not isinstance(request.accepted_renderer, CSVRenderer):
                results = json_rows(self.paginate_queryset(queryset))
            elif copy_available():
                # One COPY per page (selectors.schedule_csv): CSV lines, or rows where
                # COPY would not write them as csv_table does.
                page = self.paginate_queryset(CopiedRows(queryset))
                if page and isinstance(page[0], bytes):
                    results = CSVTable(FIELDS, body=b"\r\n".join(page) + b"\r\n")
                else:
                    results = csv_table(page)
            else:
                results = csv_table(self.paginate_queryset(queryset))
            response = self.get_paginated_response(results)
            for name, value in headers.items():
                response[name] = value
            next_link = self.paginator.get_next_link()
            if next_link:
                response["Link"] = f'<{next_link}>; rel="next"'
        patch_vary_headers(response, ["Accept", "Authorization"])
        return response

    @extend_schema(
        summary="Accepted load per line and week, with the hours over capacity",
        description=(
            "Every line (or `line`) and every week from `from` (default this week) to `to` "
            "(default the end of the planning horizon; at most 104 weeks): the hours the "
            "accepted schedule needs (units x hours per unit), the week's capacity (normal "
            "hours or the week's capacity exception) and `over_capacity_hours`, 0 when it "
            "fits. A week over capacity was planned so by a decision with a reason "
            "(`allow_over_capacity` on accept or override). API clients need the "
            "`schedules:read` scope."
        ),
        parameters=[
            OpenApiParameter("line", str, description="A line id or name."),
            OpenApiParameter("from", str, description="First week, e.g. 2026-W48."),
            OpenApiParameter("to", str, description="Last week (inclusive)."),
        ],
        responses={200: serializers.OverCapacityWeekSerializer(many=True)},
        examples=[
            OpenApiExample(
                "A week over capacity",
                summary="GET /api/v1/schedules/load/?line=Bottling 1&from=2026-W50&to=2026-W50",
                value=[
                    {
                        "line": "Bottling 1",
                        "week": "2026-W50",
                        "week_start": "2026-12-07",
                        "accepted_hours": 132.5,
                        "capacity_hours": 120.0,
                        "over_capacity_hours": 12.5,
                    }
                ],
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer], pagination_class=None)
    def load(self, request):
        query = serializers.LineLoadQuerySerializer(query_params=request.query_params)
        query.is_valid(raise_exception=True)
        loads = line_week_loads(**query.selector_arguments())
        return Response([load.as_dict() for load in loads])


router = SimpleRouter()
router.register("schedules", ScheduleViewSet, basename="schedule-entry")
urlpatterns = router.urls
