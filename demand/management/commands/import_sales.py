"""manage.py import_sales FILE: import a sales history CSV, all-or-nothing."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from coordination.csv_import import ImportRejected, import_actor
from coordination.weeks import iso_label
from demand.services.sales_import import sales_import_rows


class Command(BaseCommand):
    help = (
        "Import weekly sales from a CSV file with columns sku, week (2026-W48 or a date) "
        "and units. One bad row rejects the file; every error is listed by line. "
        "Re-importing a file replaces the same product-weeks, so it changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8, comma or semicolon).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and save nothing."
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record the import as this user (default: the first superuser or Admin).",
        )

    def handle(self, *args, file, dry_run, user, **options):
        try:
            actor = import_actor(user)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        try:
            # Text mode streams the file; newline="" as the csv module requires.
            with open(file, encoding="utf-8-sig", newline="") as handle:
                record = sales_import_rows(
                    actor=actor, rows=handle, source="command", filename=file, dry_run=dry_run
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        except PermissionDenied as exc:
            raise CommandError(f"{actor.username}: {exc}") from exc
        except ImportRejected as exc:
            for error in exc.row_errors:
                where = f"line {error.position}"
                if error.column:
                    where += f", {error.column}"
                self.stderr.write(f"{where}: {error.message}")
            if exc.error_count > len(exc.row_errors):
                shown = len(exc.row_errors)
                self.stderr.write(f"… and {exc.error_count - shown:,} more errors.")
            raise CommandError(f"{file} was rejected. {exc.summary}", returncode=1) from exc

        weeks = "no weeks"
        if record.first_week:
            weeks = f"weeks {iso_label(record.first_week)} to {iso_label(record.last_week)}"
        described = f"{record.row_count:,} rows for {record.products_count:,} products, {weeks}"
        if dry_run:
            self.stdout.write(f"{file} is valid: {described}. Nothing was saved (dry run).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {described}: {record.created_count:,} new, "
                f"{record.updated_count:,} updated, in {record.seconds:.2f} s."
            )
        )
