"""Every template that swaps an answer into an element by id holds that element itself.

A page can be opened on its own (a new tab, a shared link) as well as loaded into
another one; if the element its forms target is only on the host page, htmx drops the
answer (htmx:targetError) and the button does nothing."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TARGETING = sorted(
    path
    for path in TEMPLATES.rglob("*.html")
    if re.search(r'hx-target="#', path.read_text(encoding="utf-8"))
)


def test_templates_with_htmx_targets_are_found():
    assert len(TARGETING) >= 10  # the walk found the templates (a moved folder fails here)


@pytest.mark.parametrize("path", TARGETING, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_each_htmx_target_is_in_the_same_template(path):
    html = path.read_text(encoding="utf-8")
    targets = set(re.findall(r'hx-target="#([\w-]+)"', html))
    assert {t for t in targets if f'id="{t}"' not in html} == set()
