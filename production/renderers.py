"""CSV for list endpoints that offer it (`?format=csv` or `Accept: text/csv`).

The same rows and fields as the JSON `results`, nested objects flattened to dotted
columns, in the serializer's field order (so an empty page still has its header).
Errors stay JSON (CSVErrorsAsJSON): a client that asked for CSV can still read why.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

from rest_framework.renderers import BaseRenderer, JSONRenderer

# A spreadsheet runs a cell starting with these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _flatten(row: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_cell(value) -> str:
    """JSON value -> CSV text: null is empty, booleans are true/false, and text that a
    spreadsheet would run as a formula gets a leading apostrophe (numbers are kept)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_STARTS) and not _is_number(text):
        return f"'{text}"
    return text


@dataclass(frozen=True)
class CSVTable:
    """Rows already made into cells (csv_cell applied where needed; None and numbers
    may stay as they are, the csv module writes them as csv_cell would), for pages so
    large that flattening a dict per row would cost more than reading it."""

    columns: Sequence[str]
    rows: Sequence[Sequence] = ()
    # Or the lines already written as the csv module would ("\r\n" after each).
    text: str = ""
    # Or those lines already encoded (written by the database: selectors.schedule_csv).
    body: bytes = b""


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        table = data.get("results") if isinstance(data, dict) else data
        if isinstance(table, CSVTable):
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(table.columns)
            writer.writerows(table.rows)
            out.write(table.text)
            return out.getvalue().encode(self.charset) + table.body
        rows = data.get("results", []) if isinstance(data, dict) else data
        flat_rows = [_flatten(row) for row in rows]
        columns = self._columns(flat_rows, renderer_context or {})
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in flat_rows:
            writer.writerow([csv_cell(row.get(column)) for column in columns])
        return out.getvalue().encode(self.charset)

    @staticmethod
    def _columns(flat_rows: list[dict], renderer_context: dict) -> list[str]:
        if flat_rows:
            return list(flat_rows[0])
        view = renderer_context.get("view")
        if view is None or not hasattr(view, "get_serializer_class"):
            return []
        return list(view.get_serializer_class()().fields)


class RowsAsJSONText(JSONRenderer):
    """JSON whose `results` may come as the text of each row already (a list subclass
    with the `json_text` marker, e.g. production/api/schedule_rows.JSONRows): the rest
    of the body is rendered as usual and the rows are spliced in, byte for byte what
    json.dumps would write. Asked to indent, it renders the parsed rows instead."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data.get("results") if isinstance(data, dict) else None
        if not getattr(rows, "json_text", False):
            return super().render(data, accepted_media_type, renderer_context)
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            parsed = {**data, "results": [json.loads(row) for row in rows]}
            return super().render(parsed, accepted_media_type, renderer_context)
        envelope = {key: value for key, value in data.items() if key != "results"}
        head = super().render(envelope, accepted_media_type, renderer_context)
        prefix = head[:-1] + (b',"results":[' if envelope else b'"results":[')
        return prefix + ",".join(rows).encode() + b"]}"


class CSVErrorsAsJSON:
    """View mixin: an error answers the standard JSON error body even if CSV was asked."""

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and isinstance(renderer, CSVRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
