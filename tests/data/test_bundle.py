"""The data bundle: verification, inventory, and clear errors for missing or altered files."""

from __future__ import annotations

import pytest

from study.data.bundle import require_valid_bundle, resolve_data_root, verify_bundle
from study.infra.errors import DataError


def test_real_bundle_verifies_with_documented_counts(data_root):
    report = verify_bundle(data_root)
    assert report.ok, report.problem_message()
    counts = {f.relpath: f.examples for f in report.files}
    # counts from the bundle README
    assert counts["srl/en/train.conllu"] == 12526
    assert counts["srl/de/test.conllu"] == 977
    assert counts["srl/vi/gold-test.conllup"] == 378
    assert counts["intermediate/squad_v1/dev-v1.1.json"] == 10570
    assert counts["intermediate/mnli/mnli_dev_matched.jsonl"] == 9815
    assert counts["intermediate/sst2/train.tsv"] == 60614
    assert counts["intermediate/cosmosqa/valid.csv"] == 2985
    assert counts["srl/en/propbank-3.1-rolesets.tsv"] == 10687


def test_missing_file_is_named(mini_bundle):
    (mini_bundle / "srl/de/test.conllu").unlink()
    with pytest.raises(DataError, match=r"1 missing \(srl/de/test.conllu\)"):
        require_valid_bundle(mini_bundle)


def test_altered_file_is_named(mini_bundle):
    path = mini_bundle / "srl/zh/test.conllu"
    path.write_bytes(path.read_bytes().replace(b"\t", b" ", 1))
    with pytest.raises(DataError, match=r"1 altered, checksum mismatch \(srl/zh/test.conllu\)"):
        require_valid_bundle(mini_bundle)


def test_missing_bundle_says_how_to_point_at_it(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="STUDY_DATA"):
        resolve_data_root()


def test_env_var_overrides_the_default(mini_bundle, monkeypatch):
    monkeypatch.setenv("STUDY_DATA", str(mini_bundle))
    assert resolve_data_root() == mini_bundle.resolve()
    assert verify_bundle().ok


def _age(path, seconds=60.0):
    """Backdate a file so that the verification memo may remember it (fresh files are racy)."""
    import os
    import time

    old = time.time() - seconds
    os.utime(path, (old, old))


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Memos of the throwaway bundles go to a throwaway cache, not the user's."""
    monkeypatch.setenv("STUDY_CACHE", str(tmp_path / "cache"))


def test_memo_gives_the_same_report_without_hashing_again(mini_bundle, monkeypatch):
    for path in mini_bundle.rglob("*"):
        if path.is_file():
            _age(path)
    first = verify_bundle(mini_bundle)
    hashed = []
    import study.data.bundle as bundle

    real = bundle.sha256_file
    monkeypatch.setattr(bundle, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    second = verify_bundle(mini_bundle)
    assert second.files == first.files and second.ok and second.fingerprint == first.fingerprint
    assert hashed == ["SHA256SUMS"]  # only the checksum list (the fingerprint) is read again
    assert verify_bundle(mini_bundle, memo=False).files == first.files


def test_memo_does_not_hide_a_file_altered_after_it_verified(mini_bundle):
    path = mini_bundle / "srl/zh/test.conllu"
    for p in mini_bundle.rglob("*"):
        if p.is_file():
            _age(p)
    assert verify_bundle(mini_bundle).ok
    # same size, mtime set back to what it was: the change of ctime (and content) still shows
    before = path.stat()
    path.write_bytes(path.read_bytes().replace(b"\t", b" ", 1))
    import os

    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    with pytest.raises(DataError, match=r"1 altered, checksum mismatch \(srl/zh/test.conllu\)"):
        require_valid_bundle(mini_bundle)


def test_recently_written_files_are_not_remembered(mini_bundle, monkeypatch):
    import study.data.bundle as bundle

    verify_bundle(mini_bundle)  # the copies were just written: racy, so nothing is remembered
    hashed = []
    real = bundle.sha256_file
    monkeypatch.setattr(bundle, "sha256_file", lambda p: hashed.append(p.name) or real(p))
    verify_bundle(mini_bundle)
    assert "test.conllu" in hashed and "val.jsonl" in hashed


def test_a_damaged_memo_is_ignored(mini_bundle):
    import json

    import study.data.bundle as bundle

    for p in mini_bundle.rglob("*"):
        if p.is_file():
            _age(p)
    first = verify_bundle(mini_bundle)
    memo = bundle._memo_path(mini_bundle.resolve(), first.fingerprint)
    good = json.loads(memo.read_text())
    memo.write_text(memo.read_text()[:50])  # truncated
    assert verify_bundle(mini_bundle).files == first.files
    damaged = json.loads(json.dumps(good))
    damaged["files"]["srl/zh/test.conllu"]["file"] = {"relpath": "srl/zh/test.conllu"}  # stat matches, entry broken
    memo.write_text(json.dumps(damaged))
    assert verify_bundle(mini_bundle).files == first.files
    assert json.loads(memo.read_text()) == good  # and the memo is mended


def test_remembered_hash_follows_the_file(tmp_path):
    import os

    from study.infra.hashing import sha256_file, sha256_file_remembered

    path = tmp_path / "weights.bin"
    path.write_bytes(b"a" * 1000)
    _age(path)
    assert sha256_file_remembered(path) == sha256_file(path)
    memos = list((tmp_path / "cache" / "sha256-memo").glob("*.json"))
    assert len(memos) == 1  # remembered
    before = path.stat()
    path.write_bytes(b"b" * 1000)  # same size, mtime restored: ctime still differs
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert sha256_file_remembered(path) == sha256_file(path) != memos[0].read_text()
    fresh = tmp_path / "fresh.bin"
    fresh.write_bytes(b"c")
    sha256_file_remembered(fresh)
    assert len(list((tmp_path / "cache" / "sha256-memo").glob("*.json"))) == 1  # a racy file is not remembered


def _tiny_bundle(root, sums: str):
    (root / "srl").mkdir(parents=True)
    (root / "srl" / "x.txt").write_text("x\n")
    (root / "SHA256SUMS").write_text(sums)
    return root


def test_an_empty_checksum_list_is_refused_not_passed(tmp_path):
    root = _tiny_bundle(tmp_path / "data", "\n")
    with pytest.raises(DataError, match="SHA256SUMS: lists no files, so nothing could be verified"):
        require_valid_bundle(root)


@pytest.mark.parametrize("rel", ["../../../../etc/hostname", "/etc/hostname", "./srl/../../outside"])
def test_a_checksum_line_outside_the_bundle_is_refused_not_read(tmp_path, rel):
    root = _tiny_bundle(tmp_path / "data", f"{'0' * 64}  {rel}\n")
    with pytest.raises(DataError, match=r"SHA256SUMS:1: .* is not a file inside the bundle"):
        require_valid_bundle(root)


def test_data_check_on_an_empty_list_exits_2_with_one_line(tmp_path):
    from tests.helpers import study

    root = _tiny_bundle(tmp_path / "data", "")
    out = study("data", "check", env={"STUDY_DATA": str(root)})
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "lists no files" in out.stderr
