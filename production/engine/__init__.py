"""Capacity-constrained quota planning (pure numpy/scipy, no Django).

    from production.engine import plan_quotas, QuotaPlan

The model. Per product p and week t: demand d[p, t], stock on hand now, a safety stock, a
lead time (units made in week s arrive in week s + lead_time), hours per unit, and the
line's capacity in hours per week. Frozen cells (accepted quotas inside the frozen window)
keep their value; held products (stop-ship) make nothing. Net stock at the end of week t is
on_hand + arrivals through t - demand through t; backlog is its negative part, inventory
its positive part, shortfall how far inventory is below the safety stock.

Shelf life (usable_weeks u per product, FIFO): stock at the end of week t may not exceed the
demand of weeks t+1..t+u (past the horizon: the mean of the last min(4, T) weeks); where
opening stock and frozen output alone already exceed that, the cap is that stock. The
safety stock counts only up to the cap. The cap is a bound on the LP's stock columns, so the
LP keeps its shape; the fast path meets min(safety, cap) and is certified only if its
stock stays under every cap.

Whole units. Production in free weeks is a whole multiple of the product's batch size (1
by default: whole units) and 0 or at least its minimum run; frozen weeks keep their values.
The continuous problem above (the relaxation) is solved first, exactly, as described
below; `_integral` then reaches whole units: "+whole" when the relaxation's plan already
is one (then it is optimal), "+mip" on lines of up to planner.MIP_CELLS (64) free cells -
the exact lexicographic mixed-integer program (`_mip`, HiGHS; levels the rounding already
reaches at the relaxation's bound need no solve) - and "+rounded" on larger
lines: cumulative production rounded up to batches week by week within the hours and the
cap (every hard constraint kept, the distance to the relaxation reported per line as
QuotaPlan.relaxation_gap). Why not the MIP everywhere: measured on small generated lines
its branch and bound took 0.1-10 s for 10-25 products x 8-11 weeks with minimum runs,
against milliseconds for the rounding; 8 x 8 lines stay well under a second. A product
whose smallest run can never be made (more hours than any week has, more than its shelf
life sells) is flagged in QuotaPlan.unplannable and simply not made.

Guarantees of the relaxation, in priority order (a lexicographic optimum):
1. hard constraints: production >= 0, frozen kept, held at 0, stock <= shelf-life cap, and
   per line and week sum(production x hours_per_unit) <= capacity (frozen hours first);
2. backlog unit-weeks are minimal; 3. then shortfall unit-weeks; 4. then inventory
   unit-weeks - so production happens as late as it can and pre-build appears exactly
   where a later week lacks hours.

How. Each line is an independent problem (lines may run in threads; `lines=` re-plans
only the lines a change touches). `_netting` turns the inputs into cumulative
requirements per production week. `_greedy.backward_fill` is the fast path (certified by
`_greedy.is_exact`); `_lp` the exact fallback (one HiGHS model, three levels each solved
over the previous levels' optimal face, started from the fast path's plan; its docstring
says why, with the figures measured).

Why the fast path is exact. backward_fill fills weeks from the last to the first, meeting
each product's cumulative requirement (demand plus safety stock, net of stock and frozen
arrivals) as late as possible, and when a week lacks hours it keeps the products with the
fewest hours per unit late. It returns a plan only if every requirement is met on time.
Then backlog and shortfall are 0 wherever production can influence them, which is their
lower bound, so levels 2 and 3 hold. For level 4 inventory unit-weeks equal, up to a
constant, the sum over weeks of cumulative production; any feasible plan meets the same
nested requirements, and an exchange argument shows none can have a smaller sum: moving h
hours one week later saves h / hours_per_unit unit-weeks, so a week's hours go to the
latest due work first and, among equally late work, to the smallest hours per unit - what
the backward fill does. If any requirement is not met on time (backlog trade-offs between
products), or the relaxation used a frozen week, it returns None and the LP decides.
tests/production/test_engine_properties.py checks both paths against a plain sequential
LP on generated instances (hypothesis); tests/production/test_engine_plant.py checks shelf
life, batches and minimum runs against an independent scipy `milp` on lines of up to 8 x 8.
"""

from production.engine._lp import PlanningError
from production.engine.planner import QuotaPlan, plan_quotas

__all__ = ["PlanningError", "QuotaPlan", "plan_quotas"]
