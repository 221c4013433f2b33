"""The nightly re-plan ends by storing the company's sibling-share prior
(production.tasks): its forecasts read the previous night's, the next day's readers the
one it fitted."""

from __future__ import annotations

from coordination.models import RecomputeRequest
from demand.engine import pooling
from demand.models import SharePriorFit
from demand.selectors import lift
from production import tasks
from tests.demand.test_effects_pooling import _pair_line, week
from tests.factories import PromotionFactory, PromotionItemFactory


def test_the_night_ends_with_a_stored_prior_fitted_after_its_last_line(
    db, monkeypatch, measured_lines
):
    monkeypatch.setattr(pooling, "SHARE_PRIOR_MIN_PAIRS", 2)
    a, _ = _pair_line("NIGHT-A", 190)
    b, _ = _pair_line("NIGHT-B", 180)
    # An upcoming promotion: the forecast of line A reads the learned shares.
    upcoming = PromotionFactory(status="confirmed", start_week=week(2), end_week=week(3))
    PromotionItemFactory(promotion=upcoming, product=a)
    measured_lines.clear()  # from here on
    priors_read, read = [], lift.company_share_prior
    monkeypatch.setattr(lift, "company_share_prior", lambda: priors_read.append(read()) or read())
    ids = tasks.nightly_recompute.delay().get()  # eager: the group runs inline
    # One request per production line (each factory product has its own; none without).
    assert len(ids) == 4
    assert set(RecomputeRequest.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        RecomputeRequest.Status.DONE
    }
    # The first night's forecasts had no prior (the per-line rule) ...
    assert priors_read and set(priors_read) == {None}
    # Line A measured by its forecast, line B (no promotion ahead: no forecast needs it)
    # by the refresh; each once.
    assert measured_lines == [(a.product_line_id,), (b.product_line_id,)]
    # ... and the night stored one, from both product lines' pairs, once.
    (fit,) = SharePriorFit.objects.all()
    assert (fit.lines, fit.pairs) == (2, 2)
    assert lift.company_share_prior() == pooling.fit_share_prior(lift.every_line_pairs())
    assert lift.company_share_prior() is not None
    # The next night's forecasts read it, and the night ends with a new fit.
    stored = lift.company_share_prior()
    priors_read.clear()
    tasks.nightly_recompute.delay().get()
    assert priors_read and set(priors_read) == {stored}
    assert SharePriorFit.objects.count() == 2
