"""Intermediate-task loaders, group-wise splits, and the hub path exercised on local files."""

from __future__ import annotations

import json

import pytest

from study.config import TaskConfig
from study.infra.errors import DataError
from study.tasks import readers as L
from study.tasks.examples import LoadReport
from study.tasks.lib.mnli import nli_row
from study.tasks.lib.squad_v1 import squad_row
from study.tasks.load import load_task
from study.tasks.splits import group_fraction, split_by_group

BUNDLED = ["mnli", "snli", "anli_plus", "qqp", "sst2", "rte", "squad_v1", "squad_v2", "hellaswag", "cosmosqa", "csqa"]
GROUP_SPLIT = ["mnli", "snli", "anli_plus", "squad_v1", "squad_v2", "hellaswag", "cosmosqa"]


@pytest.fixture(scope="module")
def loaded(data_root):
    return {t: load_task(t, data_root, "bundle", TaskConfig()) for t in BUNDLED}


def test_counts_match_the_bundle(loaded):
    total = {t: len(d.train) + len(d.dev) for t, d in loaded.items()}
    assert total["mnli"] == 9815 and total["snli"] == 9842
    assert total["squad_v1"] == 10570 and total["squad_v2"] == 11873
    assert total["hellaswag"] == 10042 and total["cosmosqa"] == 2985
    assert total["anli_plus"] == 1000 + 1000 + 1198 + 9815 + 9842
    assert len(loaded["csqa"].train) == 9741 and len(loaded["rte"].dev) == 277
    squad2 = loaded["squad_v2"].train + loaded["squad_v2"].dev
    assert sum(e.answerable for e in squad2) == 5928


def test_invalid_utf8_rows_in_qqp_are_counted_not_dropped_silently(loaded):
    report = loaded["qqp"].report
    assert report.skipped == {"invalid UTF-8": 155}
    assert report.rows == 20000 and report.kept == 20000 - 155


@pytest.mark.parametrize("task", GROUP_SPLIT)
def test_group_wise_split_puts_no_group_on_both_sides(loaded, task):
    data = loaded[task]
    assert not {e.group for e in data.train} & {e.group for e in data.dev}
    assert 0.05 < len(data.dev) / (len(data.train) + len(data.dev)) < 0.2
    assert "group-wise" in data.report.split_origin


def test_split_is_deterministic_and_order_independent(data_root):
    a = load_task("mnli", data_root, "bundle", TaskConfig())
    examples = a.train + a.dev
    _, dev = split_by_group(list(reversed(examples)), 0.1)
    assert {id(e) for e in dev} == {id(e) for e in a.dev}
    assert group_fraction("x") == group_fraction("x") != group_fraction("y")


def test_caps_take_a_fixed_subset(data_root):
    capped = load_task("mnli", data_root, "bundle", TaskConfig(max_train_examples=100, max_dev_examples=20))
    again = load_task("mnli", data_root, "bundle", TaskConfig(max_train_examples=100, max_dev_examples=20))
    assert len(capped.train) == 100 and len(capped.dev) == 20
    assert capped.train == again.train


def test_bad_rows_are_counted_by_reason():
    report = LoadReport("mnli", "test")
    rows = [{"premise": "p", "hypothesis": "h", "label": "entailment"},
            {"premise": "p", "hypothesis": "h", "label": "-"},
            {"premise": "", "hypothesis": "h", "label": "neutral"}, {"hypothesis": "h"}]
    out = L.convert(rows, nli_row, report)
    assert len(out) == 1 and report.skipped == {"missing label": 1, "empty text": 2}


def test_squad_answer_not_in_context_is_counted():
    report = LoadReport("squad_v1", "test")
    rows = [{"id": "1", "title": "t", "context": "abc def", "question": "q?",
             "answers": {"text": ["xyz"], "answer_start": [0]}},
            {"id": "2", "title": "t", "context": "abc def", "question": "q?",
             "answers": {"text": ["def"], "answer_start": [1]}}]  # wrong offset, text present: repaired
    out = L.convert(rows, squad_row, report)
    assert report.skipped == {"answer not found in context": 1}
    assert out[0].answer_start == 4


def test_hub_path_through_datasets_on_local_files(data_root, tmp_path):
    """The hub loader's converters and `datasets` interface, fed local files instead of the hub."""
    from datasets import load_dataset

    mnli = data_root / "intermediate/mnli/mnli_dev_matched.jsonl"
    hub_style = tmp_path / "mnli.jsonl"  # GLUE on the hub stores labels as ints
    ids = {"entailment": 0, "neutral": 1, "contradiction": 2}
    with open(mnli) as src, open(hub_style, "w") as dst:
        for line in list(src)[:300]:
            row = json.loads(line)
            dst.write(json.dumps({**row, "label": ids[row["label"]], "idx": 0}) + "\n")
    ds = load_dataset("json", data_files=str(hub_style), split="train")
    report = LoadReport("mnli", "hub")
    examples = L.convert(ds, nli_row, report)
    bundle = L.convert(L.read_jsonl(mnli, LoadReport("mnli", "b"))[:300], nli_row, LoadReport("mnli", "b"))
    assert examples == bundle

    squad_rows = L.read_squad_json(data_root / "intermediate/squad_v2/dev-v2.0.json")[:200]
    flat = tmp_path / "squad.jsonl"
    flat.write_text("".join(json.dumps(r) + "\n" for r in squad_rows))
    ds = load_dataset("json", data_files=str(flat), split="train")
    hub = L.convert(ds, squad_row, LoadReport("squad_v2", "hub"))
    assert hub == L.convert(squad_rows, squad_row, LoadReport("squad_v2", "b"))
    assert any(not e.answerable for e in hub)


def test_hub_unreachable_gives_instructions(data_root, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match=r"from the Hugging Face hub.*source: bundle"):
        load_task("rte", data_root, "hub", TaskConfig())
