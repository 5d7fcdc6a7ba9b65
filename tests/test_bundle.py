"""The data bundle: verification, inventory, and clear errors for missing or altered files."""

from __future__ import annotations

import pytest

from study.bundle import require_valid_bundle, resolve_data_root, verify_bundle
from study.errors import DataError


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
