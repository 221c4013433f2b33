"""manage.py import_budgets FILE [--dry-run] [--user USERNAME]: budgets per product line
and month from a CSV file or .xlsx workbook (product_line, month, revenue, units),
all-or-nothing."""

from __future__ import annotations

import time

from demand.management.csv_import_command import CsvImportCommand, ImportSummary
from planning.services.budgets import budget_import


class Command(CsvImportCommand):
    help = (
        "Import budgets from a CSV file or .xlsx workbook "
        "with columns product_line, month (YYYY-MM), revenue "
        "and units. Any bad row rejects the whole file; every error is listed."
    )

    def run_import(
        self, *, actor, rows, filename: str, dry_run: bool, sheet: str | None
    ) -> ImportSummary:
        started = time.perf_counter()
        result = budget_import(
            actor=actor, rows=rows, filename=filename, dry_run=dry_run, sheet=sheet
        )
        return ImportSummary(
            described=f"{result.rows:,} budget rows, {result.first_month:%Y-%m} to "
            f"{result.last_month:%Y-%m}",
            created=result.created,
            updated=result.updated,
            seconds=time.perf_counter() - started,
        )
