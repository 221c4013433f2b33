"""The Content-Security-Policy forbids inline code, so no template or view may write
any: every template and every module that builds HTML is checked here (the browser
tests in tests/e2e fail on any violation at run time)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("coordination", "demand", "production", "recalls", "planning")

INLINE_CODE = {
    "an inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "a <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute": re.compile(r"""<[^<>]*\sstyle\s*=""", re.IGNORECASE),
    "an inline event handler": re.compile(r"""<[^<>]*\son[a-z]+\s*=""", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    # htmx's allowEval is off (templates/base.html): hx-on, js: values, event filters.
    "htmx code that needs eval": re.compile(
        r"""hx-on\b|hx-vars|hx-vals\s*=\s*["']\s*(?:js|javascript):|hx-trigger\s*=\s*["'][^"']*\[""",
        re.IGNORECASE,
    ),
}


def sources() -> list[Path]:
    # E-mail bodies (templates/<app>/email/) are never served under the policy, and mail
    # programs honour only inline styles: they are the one place style attributes belong.
    templates = sorted(
        path for path in (ROOT / "templates").rglob("*.html") if "email" not in path.parts
    )
    modules = sorted(path for app in APPS for path in (ROOT / app).rglob("*.py"))
    return templates + modules


def test_the_checked_files_are_all_there():
    names = {path.relative_to(ROOT).as_posix() for path in sources()}
    assert {"templates/base.html", "templates/500.html", "production/admin.py"} <= names
    assert len([n for n in names if n.startswith("templates/")]) >= 50


def test_no_template_or_module_writes_inline_code():
    found = []
    for path in sources():
        text = path.read_text()
        for kind, pattern in INLINE_CODE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {kind}: {match.group(0)!r}")
    assert found == []


@pytest.mark.parametrize(
    ("snippet", "kind"),
    [
        ("<script>alert(1)</script>", "an inline <script>"),
        ('<script type="module">x()</script>', "an inline <script>"),
        ("<style>p{}</style>", "a <style> element"),
        ('<p style="color: red">', "a style attribute"),
        ("<button onclick='go()'>", "an inline event handler"),
        ('<a href="javascript:go()">', "a javascript: URL"),
        ('<div hx-on:click="go()">', "htmx code that needs eval"),
        ("<div hx-vals='js:{a: b()}'>", "htmx code that needs eval"),
        ("<input hx-trigger=\"keyup[key=='Enter']\">", "htmx code that needs eval"),
    ],
)
def test_the_check_sees_each_kind(snippet, kind):
    assert INLINE_CODE[kind].search(snippet)
    assert not INLINE_CODE[kind].search('<script src="/static/js/tandem.js" defer></script>')
