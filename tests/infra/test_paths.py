"""Where the data bundle is looked for: STUDY_DATA, else ../shared/data, else the cache (where fetch builds it)."""

from __future__ import annotations

from study.infra import paths


def test_without_shared_data_the_bundle_lives_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.DATA_ENV, raising=False)
    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path / "cache"))
    checkout = tmp_path / "clone" / "repo"
    checkout.mkdir(parents=True)
    monkeypatch.setattr(paths, "repo_root", lambda: checkout)
    assert paths.default_data_root() == tmp_path / "cache" / "data"
    (tmp_path / "clone" / "shared" / "data").mkdir(parents=True)
    assert paths.default_data_root() == tmp_path / "clone" / "shared" / "data"
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "mine"))
    assert paths.default_data_root() == tmp_path / "mine"
