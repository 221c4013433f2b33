"""The shared shape of the `import_*` management commands: read a CSV file or an .xlsx
workbook, import it all-or-nothing through a service, list every rejected row on stderr,
print a summary."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from demand import xlsx
from demand.csv_import import ImportRejected, import_actor


@dataclass(frozen=True)
class ImportSummary:
    described: str  # "1,000 rows for 20 products, weeks 2026-W01 to 2026-W50"
    created: int
    updated: int
    seconds: float


class CsvImportCommand(BaseCommand):
    """Subclasses set `help` and implement `run_import` (call the service, summarise)."""

    def run_import(
        self, *, actor, rows, filename: str, dry_run: bool, sheet: str | None
    ) -> ImportSummary:
        """Call the import service with these arguments (the names its keywords share)."""
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="Path of the CSV file (UTF-8, comma or semicolon) or .xlsx workbook."
        )
        parser.add_argument(
            "--sheet", help="The workbook's sheet to read (default: its first sheet)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and save nothing."
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record the import as this user (default: the first superuser or Admin).",
        )

    def handle(self, *args, file, dry_run, user, sheet=None, **options):
        try:
            actor = import_actor(user)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        try:
            with open(file, "rb") as handle:
                head = handle.read(8)
                if head.startswith((xlsx.ZIP_MAGIC, xlsx.OLE_MAGIC)) or file.lower().endswith(
                    xlsx.SPREADSHEET_SUFFIXES
                ):
                    rows = head + handle.read()  # a workbook is read from memory
                else:
                    rows = None
            if rows is None:
                # Text mode streams the file; newline="" as the csv module requires.
                with open(file, encoding="utf-8-sig", newline="") as handle:
                    summary = self.run_import(
                        actor=actor, rows=handle, filename=file, dry_run=dry_run, sheet=sheet
                    )
            else:
                summary = self.run_import(
                    actor=actor, rows=rows, filename=file, dry_run=dry_run, sheet=sheet
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        except PermissionDenied as exc:
            raise CommandError(f"{actor.username}: {exc}") from exc
        except xlsx.WorkbookRefused as exc:
            raise CommandError(f"{file} was refused: {exc.message_text}", returncode=1) from exc
        except ImportRejected as exc:
            for error in exc.row_errors:
                self.stderr.write(f"{error.place(exc.position_label, exc.sheet)}: {error.message}")
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
