"""manage.py import_inventory FILE: import inventory counts from a CSV, all-or-nothing."""

from __future__ import annotations

from demand.management.csv_import_command import CsvImportCommand, ImportSummary
from production.services.inventory_import import inventory_import


class Command(CsvImportCommand):
    help = (
        "Import units on hand from a CSV file or .xlsx workbook "
        "with columns sku, as_of (the date counted, "
        "2026-11-23) and on_hand. One bad row rejects the file; every error is listed by "
        "line. A product counted again on the same date replaces the earlier count."
    )

    def run_import(self, **arguments) -> ImportSummary:
        result = inventory_import(source="command", **arguments)
        dates = "no dates"
        if result.first_date:
            dates = f"counted {result.first_date} to {result.last_date}"
        return ImportSummary(
            described=f"{result.rows:,} rows for {result.products:,} products, {dates}",
            created=result.created,
            updated=result.updated,
            seconds=result.seconds,
        )
