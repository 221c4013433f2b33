"""manage.py import_sales FILE: import a sales history CSV, all-or-nothing."""

from __future__ import annotations

from coordination.weeks import iso_label
from demand.management.csv_import_command import CsvImportCommand, ImportSummary
from demand.services.sales_import import sales_import_rows


class Command(CsvImportCommand):
    help = (
        "Import weekly sales from a CSV file or .xlsx workbook "
        "with columns sku, week (2026-W48 or a date), units and, optionally, channel "
        "(retail, online, distributor, foodservice; blank or absent: all). One bad row "
        "rejects the file; every error is listed by line. Re-importing a file replaces "
        "the same product-channel-weeks, so it changes nothing."
    )

    def run_import(self, **arguments) -> ImportSummary:
        record = sales_import_rows(source="command", **arguments)
        weeks = "no weeks"
        if record.first_week:
            weeks = f"weeks {iso_label(record.first_week)} to {iso_label(record.last_week)}"
        return ImportSummary(
            described=f"{record.row_count:,} rows for {record.products_count:,} products, {weeks}",
            created=record.created_count,
            updated=record.updated_count,
            seconds=record.seconds,
        )
