"""Every registered task loads from the tiny committed fixture bundle, through its own spec."""

from __future__ import annotations

import json

import pytest

from study.config import TaskConfig
from study.tasks.examples import ChoiceExample, LoadReport, PairExample, QaExample
from study.tasks.load import load_task
from study.tasks.readers import convert, read_squad_json
from study.tasks.registry import TASKS
from study.tasks.spec import FixedSplit, GroupSplit

EXAMPLE_TYPE = {"classification": PairExample, "multiple_choice": ChoiceExample, "extractive_qa": QaExample}
CAPS = TaskConfig(dev_fraction=0.3)


def test_the_registry_holds_the_eleven_bundled_tasks():
    assert sorted(TASKS) == ["anli_plus", "cosmosqa", "csqa", "hellaswag", "mnli", "qqp", "rte", "snli",
                             "squad_v1", "squad_v2", "sst2"]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_loads_from_its_bundle_files(name, fixture_bundle):
    spec = TASKS[name]
    data = load_task(name, fixture_bundle, "bundle", CAPS)
    assert data.train and data.dev
    assert all(isinstance(e, EXAMPLE_TYPE[spec.head]) for e in data.train + data.dev)
    if spec.head == "classification":
        assert {e.label for e in data.train + data.dev} <= set(range(spec.n_labels))
    if spec.head == "multiple_choice":
        assert {len(e.choices) for e in data.train} == {spec.sequences_per_example}
    report = data.report
    assert report.kept == len(data.train) + len(data.dev) and report.rows == report.kept + sum(report.skipped.values())
    files = (spec.bundle.files if isinstance(spec.bundle, GroupSplit) else (spec.bundle.train, spec.bundle.dev))
    assert [p.removeprefix(f"{fixture_bundle}/intermediate/") for p in report.files] == [f.path for f in files]
    if isinstance(spec.bundle, GroupSplit):
        assert not {e.group for e in data.train} & {e.group for e in data.dev}, "a group straddles the split"
        assert spec.bundle.by in report.split_origin
    else:
        assert report.split_origin == spec.bundle.origin


def test_every_task_declares_a_hub_source_and_its_size():
    for spec in TASKS.values():
        assert spec.hub and spec.hub_train_examples, spec.name
        assert spec.head in EXAMPLE_TYPE


def test_the_split_does_not_depend_on_the_caps(fixture_bundle):
    whole = load_task("mnli", fixture_bundle, "bundle", CAPS)
    capped = load_task("mnli", fixture_bundle, "bundle", TaskConfig(dev_fraction=0.3, max_train_examples=5))
    assert len(capped.train) == 5 and set(capped.train) <= set(whole.train) and capped.dev == whole.dev


def test_squad_v2_keeps_unanswerable_questions(fixture_bundle):
    data = load_task("squad_v2", fixture_bundle, "bundle", CAPS)
    assert any(not e.answerable for e in data.train + data.dev)
    assert all(e.context[e.answer_start:].startswith(e.answer_text) for e in data.train if e.answerable)


def test_the_hub_path_gives_the_bundle_examples_on_local_files(fixture_bundle, tmp_path):
    """``datasets.load_dataset`` on local files stands in for the hub: the same converter, the same examples."""
    from datasets import load_dataset

    rows = read_squad_json(fixture_bundle / "intermediate/squad_v1/dev-v1.1.json")
    flat = tmp_path / "squad.jsonl"
    flat.write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = TASKS["squad_v1"]

    def fake_hub(dataset, config, split):
        assert dataset == "rajpurkar/squad" and split in {"train", "validation"}
        return load_dataset("json", data_files=str(flat), split="train")

    hub = load_task("squad_v1", fixture_bundle, "hub", CAPS, load_dataset=fake_hub)
    assert hub.report.source == "hub" and hub.train == convert(rows, spec.row, LoadReport("squad_v1", "b"))


def test_fixed_split_tasks_read_their_two_files(fixture_bundle):
    for spec in TASKS.values():
        if isinstance(spec.bundle, FixedSplit):
            data = load_task(spec.name, fixture_bundle, "bundle", CAPS)
            assert len(data.dev) == data.report.kept - len(data.train)
