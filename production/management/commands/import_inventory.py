"""manage.py import_inventory FILE: import inventory counts from a CSV, all-or-nothing."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from coordination.csv_import import ImportRejected, import_actor
from production.services.inventory_import import inventory_import


class Command(BaseCommand):
    help = (
        "Import units on hand from a CSV file with columns sku, as_of (the date counted, "
        "2026-11-23) and on_hand. One bad row rejects the file; every error is listed by "
        "line. A product counted again on the same date replaces the earlier count."
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
            with open(file, encoding="utf-8-sig", newline="") as handle:
                result = inventory_import(
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

        dates = "no dates"
        if result.first_date:
            dates = f"counted {result.first_date} to {result.last_date}"
        described = f"{result.rows:,} rows for {result.products:,} products, {dates}"
        if dry_run:
            self.stdout.write(f"{file} is valid: {described}. Nothing was saved (dry run).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {described}: {result.created:,} new, {result.updated:,} updated, "
                f"in {result.seconds:.2f} s."
            )
        )
