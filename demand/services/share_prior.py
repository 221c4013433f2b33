"""The company's sibling-share prior, fitted to every product line's measures and stored.

Fitting it needs every product line's measures (demand.selectors.lift): at 100 lines,
tens of seconds when they are not cached, which no page or small recompute may spend.
The nightly re-plan measures every line anyway; once it has (production.tasks), it
refreshes the stored prior from those cached measures, and every reader takes the newest
stored one (demand.selectors.lift.company_share_prior). `manage.py refresh_share_prior`
and seed_demo run the same refresh."""

from __future__ import annotations

import time

from demand.engine.pooling import fit_share_prior, fitted_counts
from demand.models import SharePriorFit
from demand.selectors.lift import every_line_pairs

# Newest first; older fits are deleted: two weeks of nights are enough to see the prior move.
SHARE_PRIOR_FITS_KEPT = 14


def share_prior_refresh() -> SharePriorFit:
    """Fit the prior to every product line's pairs (their cached measures, measured here
    where missing) and store it as the newest SharePriorFit: null parameters where too
    few lines or pairs say anything (readers then keep the per-line rule exactly)."""
    started = time.perf_counter()
    pairs = every_line_pairs()
    prior = fit_share_prior(pairs)
    with_pairs, fitted = fitted_counts(pairs)
    parameters = {}
    if prior is not None:
        parameters = {
            "zero": prior.zero,
            "loss_weight": prior.loss[0],
            "loss_mean": prior.loss[1],
            "loss_width": prior.loss[2],
            "gain_weight": prior.gain[0],
            "gain_mean": prior.gain[1],
            "gain_width": prior.gain[2],
        }
    fit = SharePriorFit.objects.create(
        lines=with_pairs,
        pairs=fitted,
        seconds=round(time.perf_counter() - started, 3),
        **parameters,
    )
    kept = SharePriorFit.objects.order_by("-pk").values_list("pk", flat=True)[
        :SHARE_PRIOR_FITS_KEPT
    ]
    SharePriorFit.objects.exclude(pk__in=list(kept)).delete()
    return fit
