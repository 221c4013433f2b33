"""manage.py refresh_share_prior: fit the company's sibling-share prior now and store it."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from demand.services.share_prior import share_prior_refresh


class Command(BaseCommand):
    help = (
        "Fit the company's prior on sibling shares to every product line's measured "
        "pairs and store it (the nightly re-plan does this once every line is measured). "
        "Lines whose measures are not cached are measured: at 100 lines, tens of seconds."
    )

    def handle(self, *args, **options):
        fit = share_prior_refresh()
        prior = (
            "none (per-line rule)" if fit.zero is None else f"{1 - fit.zero:.0%} of pairs non-zero"
        )
        self.stdout.write(
            f"Share prior from {fit.lines} lines, {fit.pairs} pairs: {prior} ({fit.seconds:.2f} s)."
        )
