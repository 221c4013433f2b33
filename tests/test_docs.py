"""The repository stands on its own: every file its documentation points at is inside
it and exists (the README once sent readers to ../shared/...)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Markdown link targets, and `code` spans that name a file by path (a/b.ext).
LINK = re.compile(r"\]\(([^)#\s]+)[^)]*\)")
PATH = re.compile(r"`((?:\.\./|[\w.-]+/)[\w./-]*\.\w+)`")


def referenced_files(document: Path) -> list[str]:
    text = document.read_text(encoding="utf-8")
    links = [target for target in LINK.findall(text) if "://" not in target]
    return sorted(set(links) | set(PATH.findall(text)))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_a_document_names_is_in_the_repository(document):
    names = referenced_files(document)
    outside, missing = [], []
    for name in names:
        path = (document.parent / name).resolve()
        if not path.exists():  # paths in code spans are relative to the repository root
            path = (ROOT / name).resolve()
        if not path.is_relative_to(ROOT):
            outside.append(name)
        elif not path.exists():
            missing.append(name)
    assert (outside, missing) == ([], [])


def test_the_readme_links_the_design():
    assert "docs/design.md" in referenced_files(ROOT / "README.md")
