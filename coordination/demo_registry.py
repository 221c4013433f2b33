"""seed_demo's parts: each app contributes the part of the demo company it owns.

A part is a function `say -> None` that seeds its rows (safe to run again: nothing is
duplicated) and reports what it did through `say(line)`. Apps register their parts in
their AppConfig.ready, like the home panels, so coordination never imports the apps above
it. Parts run by `order`, which follows the dependencies: master data (10), demand
history (20), production capacity (30), upcoming promotions (40), the sibling-share
prior (45), the plan (50), recalls (60), the planning review (70, its snapshots take in
everything before).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoPart:
    name: str
    seed: Callable[[Say], None]
    order: int


PARTS: list[DemoPart] = []


def register(name: str, seed: Callable[[Say], None], *, order: int) -> None:
    if any(part.name == name for part in PARTS):
        return  # ready() may run twice in tests; a part is registered once
    PARTS.append(DemoPart(name, seed, order))
    PARTS.sort(key=lambda part: part.order)


def seed_all(say: Say) -> None:
    for part in PARTS:
        part.seed(say)
