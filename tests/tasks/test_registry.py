"""Adding a task is one spec: a task registered from outside the package validates, loads and trains."""

from __future__ import annotations

import json

import pytest

from study.config import validate_params
from study.infra.errors import ParamsError
from study.tasks import registry
from study.tasks.examples import PairExample
from study.tasks.readers import label, read_jsonl, text
from study.tasks.spec import BundleFile, GroupSplit, HubSplits, TaskSpec


def polarity_row(row: dict) -> PairExample:
    sentence = text(row["sentence"])
    return PairExample(sentence, None, label(row["label"], {"neg": 0, "pos": 1}, 2), group=sentence)


TINY = TaskSpec(name="tiny_polarity", head="classification", n_labels=2, description="a test's own task",
                row=polarity_row, bundle=GroupSplit((BundleFile("tiny/rows.jsonl", read_jsonl),), by="sentence"),
                hub=(HubSplits("nobody/tiny", None, "train", "validation"),), hub_train_examples=40)


@pytest.fixture
def tiny_task(tmp_path, monkeypatch):
    monkeypatch.setitem(registry.TASKS, TINY.name, TINY)  # removed again after the test
    folder = tmp_path / "data" / "intermediate" / "tiny"
    folder.mkdir(parents=True)
    words = ["good", "bad", "fine", "awful", "great", "poor", "nice", "dull"]
    rows = [{"sentence": f"the {w} film number {i}", "label": "pos" if j % 2 == 0 else "neg"}
            for i in range(6) for j, w in enumerate(words)]
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "data"


def test_a_registered_task_is_accepted_by_params_and_unknown_ones_are_not(tiny_task, tiny_params):
    config = tiny_params(schedules=["none", "single:tiny_polarity"],
                         intermediate={"tasks": {"tiny_polarity": {"dev_fraction": 0.25}}})
    assert config.parsed_schedules()[1].tasks == ("tiny_polarity",)
    with pytest.raises(ParamsError, match="unknown task 'tiny_polarty' \\(did you mean 'tiny_polarity'\\?\\)"):
        validate_params({"study_name": "x", "seeds": [1], "schedules": ["none"],
                         "intermediate": {"tasks": {"tiny_polarty": {}}}})


def test_a_second_spec_under_a_taken_name_is_refused(tiny_task):
    with pytest.raises(ValueError, match="registered already"):
        registry.register(TaskSpec(name="tiny_polarity", head="multiple_choice", description="other",
                                   row=polarity_row, bundle=TINY.bundle, hub=()))
    assert registry.register(TINY) is TINY  # the same spec again is fine


def test_a_classification_task_needs_its_label_count():
    with pytest.raises(ValueError, match="needs n_labels"):
        TaskSpec(name="x", head="classification", description="", row=polarity_row, bundle=TINY.bundle, hub=())


def test_a_registered_task_trains_a_stage_with_the_head_its_kind_gives(tiny_task, tiny_params, tokenizer):
    from study.intermediate.stages import prepare_task, train_stage
    from study.training.heads import ClassificationHead

    config = tiny_params(schedules=["single:tiny_polarity"], runtime={"mixed_precision": "no"},
                         intermediate={"budget": {"per_task": 2}, "eval_every": 2,
                                       "tasks": {"tiny_polarity": {"dev_fraction": 0.25}}})
    task = prepare_task(config, "tiny_polarity", tiny_task, tokenizer)
    assert task.train and task.dev and task.data.report.kept == 48
    outcome = train_stage(config, [task], seed=1, pad_id=tokenizer.pad_token_id, init_state=None,
                          checkpoint_dir=None)
    assert outcome.consumed == {"tiny_polarity": {"steps": 2, "examples": 8}}
    assert 0.0 <= outcome.best_metrics["dev_tiny_polarity"] <= 1.0
    from study.intermediate.head_kinds import head_kind

    assert isinstance(head_kind("classification").build(384, TINY), ClassificationHead)
