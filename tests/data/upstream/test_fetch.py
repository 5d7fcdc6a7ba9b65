"""``make data`` / ``make study`` on a machine without the bundle: built from the upstream mirror over HTTP."""

from __future__ import annotations

import filecmp
import hashlib
import subprocess

import pytest

from study.data.bundle import read_checksums
from study.data.upstream.build import fetch_bundle
from study.data.upstream.sources import BUNDLE_CHECKSUMS
from study.infra.errors import DataError
from tests.helpers import REPO, isolated_study_env, study
from tests.helpers.mirror_server import serve_mirror

UPSTREAM = REPO.parent / "shared" / "upstream"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (UPSTREAM / "MANIFEST.tsv").is_file(), reason="needs the upstream mirror ../shared/upstream")
def test_make_data_builds_the_bundle_from_upstream_byte_for_byte_and_make_study_starts(tmp_path, encoder_dir):
    root = tmp_path / "data"
    env = isolated_study_env(tmp_path, encoder_dir)
    env["STUDY_DATA"] = str(root)
    with serve_mirror(UPSTREAM) as server:
        env["STUDY_UPSTREAM_URL"] = server.url
        first = subprocess.run(["make", "data"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
        fetched = len(server.requests)
        # make study on the fetched bundle: verified, nothing downloaded again, the study starts (notebook 01)
        second = subprocess.run(["make", "study", "PARAMS=params/smoke.yaml --max-runs 0"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "built from upstream and verified" in first.stdout
    assert "IPKernelApp" not in first.stdout + first.stderr
    expected = read_checksums(BUNDLE_CHECKSUMS.parent)
    for rel, digest in expected.items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest, rel
        if SHARED_DATA.is_dir():
            assert filecmp.cmp(root / rel, SHARED_DATA / rel, shallow=False), rel
    assert (root / "SHA256SUMS").read_bytes() == BUNDLE_CHECKSUMS.read_bytes()
    assert sorted(p.name for p in (root / "LICENSES").iterdir())  # upstream licences travel with the data
    assert not list(tmp_path.glob(".data.partial"))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already present, verified" in second.stdout and "study 'smoke': 5 runs" in second.stdout
    assert (tmp_path / "reports" / "smoke" / "01_data.html").is_file()
    assert "follows the first finished run" in (tmp_path / "reports" / "smoke" / "index.html").read_text()
    assert len(server.requests) == fetched  # nothing downloaded twice


def test_a_folder_that_is_not_a_bundle_is_never_overwritten(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="is not a data bundle"):
        fetch_bundle(root, base_url="http://127.0.0.1:9", mirror_dir=tmp_path / "m")
    assert [p.name for p in root.iterdir()] == ["notes.txt"]


@pytest.mark.slow
@pytest.mark.skipif(not (UPSTREAM / "MANIFEST.tsv").is_file(), reason="needs the upstream mirror ../shared/upstream")
def test_a_failed_fetch_says_which_url_leaves_no_bundle_and_resumes(tmp_path):
    from study.data.upstream.sources import load_sources

    sources = load_sources()
    victim = next(s for s in sources if s.path == "hellaswag_val_full.txt.bz2")
    root = tmp_path / "data"
    env = {"STUDY_CACHE": str(tmp_path / "cache")}
    with serve_mirror(UPSTREAM, {"/" + victim.mirror_path: "404"}) as server:
        failed = study("data", "fetch", "--data-root", str(root), "--base-url", server.url, env=env)
        fetched_before = len(server.requests) - 1  # the last one was the 404, not retried
    assert failed.returncode == 2
    errors = [line for line in failed.stderr.splitlines() if line.startswith("study: error:")]
    assert len(errors) == 1 and victim.url(server.url) in errors[0] and "HTTP 404" in errors[0]
    assert not root.exists()
    with serve_mirror(UPSTREAM) as server:
        resumed = study("data", "fetch", "--data-root", str(root), "--base-url", server.url, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(server.requests) == len(sources) - fetched_before  # only what the first attempt had not fetched
    assert (root / "intermediate" / "hellaswag" / "hellaswag_val_full.jsonl").is_file()
