"""The edge every request crosses: input no part of Tandem can take is refused here, once.

- **NUL characters** (`\\u0000`): PostgreSQL refuses them in text, so a NUL reaching a
  query or a write was a 500. `BoundaryMiddleware` refuses one in the path, the query
  string (names and values), a form or multipart field (name or value) and an uploaded
  text file (a CSV); the API's JSON parsers (`BoundaryJSONParser`, and
  `demand.csv_import.BulkJSONParser` for the bulk imports, whose bodies are larger
  than Django lets a middleware read) refuse one in any JSON string or key.
- **Deep JSON**: a body nested more than MAX_JSON_DEPTH levels (100,000 `[` made the
  parser recurse until Python gave up) is refused before anything walks it.
- **The database unreachable** (PostgreSQL restarting, the network to it down): a
  503 with Retry-After instead of a 500 trace: the API's error body
  (`database_unavailable`) under /api/, a plain page in the browser that touches no
  database (`server_error`, Django's handler500). Any other error under /api/ is the
  API's error body too (`server_error`, 500), never Django's HTML page.
- **Django's own error pages under /api/**: an unknown path (404), a wrong method (405)
  or a request Django itself refuses (400, 413) answer the API's JSON error body, not
  an HTML page.

Refusals answer 400: under /api/ with the API's error body (`{"error": {"code":
"invalid", "message", "fields"}}`, the field named as the API names it: `0.sku` for an
item of a list), in the browser with a plain 400 page that says what to remove. Field
level checks stay where text enters other ways (`manage.py import_sales` names the row
with a NUL).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from coordination.api.support import error_body

NUL = "\x00"
MAX_JSON_DEPTH = 32
NUL_MESSAGE = "Remove the NUL character (\\u0000): Tandem does not accept it in any text."
DEPTH_MESSAGE = f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
API_PREFIX = "/api/"
# Uploaded files read as text (imports); other files are left to their own checks.
TEXT_UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv")
# Django's own answers under /api/ that become the API's error body.
DJANGO_ERRORS = {
    400: ("invalid", "The request could not be read."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("too_large", "The request body is too large."),
}


class Refused(Exception):
    """Input refused at the boundary: `field` names where ("" for the path)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def field_name(name: str) -> str:
    """A name as the error body shows it: a NUL in it written as \\u0000."""
    return str(name).replace(NUL, "\\u0000")


def check_data(data) -> None:
    """Raise Refused for a NUL in any string or key of parsed JSON, or for nesting
    deeper than MAX_JSON_DEPTH. Iterative: a deep structure cannot exhaust the stack."""
    stack: list[tuple[str, object, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                raise Refused(path, NUL_MESSAGE)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_JSON_DEPTH:
            raise Refused("", DEPTH_MESSAGE)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, inner in items:
            key = str(key)
            if NUL in key:
                raise Refused(field_name(f"{path}.{key}" if path else key), NUL_MESSAGE)
            stack.append((f"{path}.{key}" if path else key, inner, depth + 1))


def load_json(data: bytes | str):
    """json.loads, refusing a NUL anywhere and nesting beyond MAX_JSON_DEPTH (Refused);
    ValueError for text that is not JSON."""
    try:
        parsed = json.loads(data)
    except RecursionError as exc:
        raise Refused("", DEPTH_MESSAGE) from exc
    check_data(parsed)
    return parsed


def api_refusal(exc: Refused) -> exceptions.ValidationError:
    """The DRF error for a refusal: the shared error body names the field."""
    return exceptions.ValidationError({exc.field or "non_field_errors": [exc.message]})


class BoundaryJSONParser(JSONParser):
    """The API's JSON parser: load_json's refusals are 400s with the shared error body."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            return load_json(data)
        except Refused as exc:
            raise api_refusal(exc) from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc


# ------------------------------------------------------------------------ middleware


def _query_and_form_refusal(request: HttpRequest) -> Refused | None:
    if NUL in request.path_info or NUL in request.path:
        return Refused("", NUL_MESSAGE)
    sources = [request.GET]
    # The API reads JSON only (its parsers check it) and answers a form body 415, which
    # it cannot once something has read the form: forms are the browser's.
    content_type = "" if is_api(request) else request.content_type or ""
    if request.method == "POST" and content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(request.POST)
    for source in sources:
        for key, values in source.lists():
            if NUL in key or any(NUL in value for value in values):
                return Refused(field_name(key), NUL_MESSAGE)
    if request.method == "POST" and content_type == "multipart/form-data":
        for key, upload in request.FILES.items():
            if NUL in (upload.name or "") or (_is_text(upload.name) and _has_nul(upload)):
                return Refused(field_name(key), NUL_MESSAGE)
    return None


def _is_text(name: str | None) -> bool:
    return (name or "").lower().endswith(TEXT_UPLOAD_SUFFIXES)


def _chunks(upload) -> Iterator[bytes]:
    upload.seek(0)
    yield from upload.chunks()
    upload.seek(0)


def _has_nul(upload) -> bool:
    # A UTF-8 text holds a zero byte only as NUL. A UTF-16 file (byte-order mark) is
    # full of them: the import itself says it cannot read that encoding.
    chunks = _chunks(upload)
    first = next(chunks, b"")
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        upload.seek(0)
        return False
    return b"\x00" in first or any(b"\x00" in chunk for chunk in chunks)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def api_error(code: str, message: str, status: int, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


def refusal_response(request: HttpRequest, refusal: Refused) -> HttpResponse:
    if is_api(request):
        if refusal.field:
            return api_error(
                "invalid",
                "Some fields are not valid; see fields.",
                400,
                {refusal.field: [refusal.message]},
            )
        return api_error("invalid", refusal.message, 400, {"non_field_errors": [refusal.message]})
    return render(request, "400.html", {"message": refusal.message}, status=400)


class BoundaryMiddleware:
    """Refuses NUL characters in the path, query string and form bodies (400), and
    makes Django's own error pages under /api/ the API's JSON error body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refusal = _query_and_form_refusal(request)
        except SuspiciousOperation:
            # Too many fields, a body over the limit: Django's 400, as JSON under /api/.
            if not is_api(request):
                raise
            code, message = DJANGO_ERRORS[400]
            return api_error(code, message, 400)
        if refusal is not None:
            return refusal_response(request, refusal)
        response = self.get_response(request)
        if is_api(request) and response.status_code in DJANGO_ERRORS:
            content_type = response.get("Content-Type", "")
            if not content_type.startswith("application/json"):
                code, message = DJANGO_ERRORS[response.status_code]
                json_response = api_error(code, message, response.status_code)
                if response.has_header("Allow"):
                    json_response["Allow"] = response["Allow"]
                return json_response
        return response


DATABASE_RETRY_SECONDS = 5
DATABASE_MESSAGE = "The database is unavailable right now; nothing was saved. Try again shortly."
SERVER_ERROR_MESSAGE = "Something went wrong on our side; it has been logged. Nothing was saved."


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500 (coordination/urls.py): runs inside the failing request's
    `except`, so it sees the error whatever layer raised it (a view, a middleware, the
    session store). A lost database answers 503; anything else the plain 500 page, or the
    API's error body under /api/."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        # Operational errors are the database's state, not the request's: a lost or
        # refused connection, a restart, a timeout. The client may simply retry.
        return database_unavailable(request)
    if is_api(request):
        return api_error("server_error", SERVER_ERROR_MESSAGE, 500)
    return HttpResponse(render_to_string("500.html"), status=500)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        response = api_error("database_unavailable", DATABASE_MESSAGE, 503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    return response
