import time

from django.core.management.base import BaseCommand, CommandError

from production.scale_seed import SeedRefused, seed_scale


class Command(BaseCommand):
    help = (
        "Write a large company (lines, products, weekly sales, run rates, stock, promotions, "
        "an accepted 26-week schedule) in bulk, into a database without products."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=20_000)
        parser.add_argument("--lines", type=int, default=40)
        parser.add_argument(
            "--weeks", type=int, default=156, help="Weeks of sales history (default 3 years)."
        )
        parser.add_argument("--seed", type=int, default=7, help="Same seed, same company.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add the company even though the database already holds products.",
        )

    def handle(self, *args, products, lines, weeks, seed, force, **options):
        started = time.perf_counter()
        try:
            report = seed_scale(
                products=products,
                lines=lines,
                history_weeks=weeks,
                seed=seed,
                force=force,
                progress=self.stdout.write,
            )
        except SeedRefused as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(report.counts.values())
        self.stdout.write(
            f"Seeded {products:,} products on {lines} lines with {weeks} weeks of sales: "
            f"{rows:,} rows in {time.perf_counter() - started:.1f} s (commit included)."
        )
