"""The source list is data: every row pinned, every bundle file has exactly one recipe."""

from __future__ import annotations

import pytest

from study.data.bundle import read_checksums
from study.data.upstream.recipes import bundle_recipes, licence_copies
from study.data.upstream.sources import BUNDLE_CHECKSUMS, MEMBERS_FILE, SOURCES_FILE, load_sources
from study.infra.errors import DataError


def test_every_bundle_file_has_one_recipe_and_every_recipe_a_checksum():
    sources = load_sources()
    recipes = bundle_recipes(sources)
    made = [r.relpath for r in recipes]
    assert len(made) == len(set(made)) == 60
    assert set(made) == set(read_checksums(BUNDLE_CHECKSUMS.parent))
    assert all(s.copy_to.startswith("LICENSES/") for s in licence_copies(sources))


def test_every_source_is_read_by_some_recipe_or_is_a_licence():
    sources = load_sources()
    used = {s for r in bundle_recipes(sources) for s in r.sources} | set(licence_copies(sources))
    assert set(sources) == used


def test_sources_are_pinned_by_full_commit_and_checksum():
    for source in load_sources():
        assert len(source.commit) == 40 and len(source.sha256) == 64
        assert (source.size is None) == (source.kind == "archive")
        assert bool(source.members) == (source.kind == "archive")


def test_a_malformed_row_names_its_line(tmp_path):
    bad = tmp_path / "sources.tsv"
    lines = SOURCES_FILE.read_text().splitlines()
    lines[3] = lines[3].replace("raw", "zip", 1) if lines[3].startswith("raw") else "zip" + lines[3][7:]
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"sources.tsv:4: malformed source row"):
        load_sources(bad)


def test_the_archive_members_and_the_source_list_must_agree(tmp_path):
    members = tmp_path / "members.sha256"
    text = MEMBERS_FILE.read_text()
    members.write_text(text.replace("  frames/1500.xml", "  frames/1501.xml", 1))
    with pytest.raises(DataError, match=r"propbank/propbank-frames .* do not have the digest"):
        load_sources(members_file=members)
    assert sum(len(s.members) for s in load_sources()) == 7311 + 1145 + 83 + 1177
