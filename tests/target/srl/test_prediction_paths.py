"""A run's prediction file names and the bundle files they were scored against: one naming, both ways."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from study.target.srl.data import prediction_path, scored_against, srl_path


@given(st.from_regex(r"[a-z]{2,3}", fullmatch=True), st.sampled_from(["test", "dev", "train", "gold-test"]))
def test_a_prediction_file_leads_back_to_the_file_it_was_scored_against(language, split):
    root, predictions = Path("/bundle"), Path("/run/predictions")
    written = prediction_path(predictions, language, split)
    assert written.parent == predictions and written.suffix == srl_path(root, language, split).suffix
    assert scored_against(root, written) == srl_path(root, language, split)


def test_gold_sets_keep_their_conllup_suffix():
    assert prediction_path(Path("p"), "vi", "gold-test") == Path("p/vi-gold-test.conllup")
    assert prediction_path(Path("p"), "de", "test") == Path("p/de-test.conllu")
