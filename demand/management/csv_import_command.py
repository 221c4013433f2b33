"""The shared shape of the `import_*` management commands: read a CSV file, import it
all-or-nothing through a service, list every rejected row on stderr, print a summary."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from demand.csv_import import ImportRejected, import_actor


@dataclass(frozen=True)
class ImportSummary:
    described: str  # "1,000 rows for 20 products, weeks 2026-W01 to 2026-W50"
    created: int
    updated: int
    seconds: float


class CsvImportCommand(BaseCommand):
    """Subclasses set `help` and implement `run_import` (call the service, summarise)."""

    def run_import(self, *, actor, rows, filename: str, dry_run: bool) -> ImportSummary:
        raise NotImplementedError

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
                summary = self.run_import(actor=actor, rows=handle, filename=file, dry_run=dry_run)
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

        if dry_run:
            self.stdout.write(f"{file} is valid: {summary.described}. Nothing was saved (dry run).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary.described}: {summary.created:,} new, "
                f"{summary.updated:,} updated, in {summary.seconds:.2f} s."
            )
        )
