"""The cost model: a forecast that adds up the grid's work at the measured rates, and says where it stretched them."""

from __future__ import annotations

from pathlib import Path

import pytest

from study.intermediate.stage_cache import StageCache
from study.orchestration.cost import MissingRates, forecast, format_forecast
from study.orchestration.plan import count_scored_sentences
from study.orchestration.run import StudyContext


def _rates(**changes) -> dict:
    """Rates at params/smoke.yaml's shapes, with round numbers so the arithmetic can be checked by hand."""
    rates = {
        "machine": {"cpu": "test CPU", "threads": 2, "torch": "x", "capability": "AVX2"},
        "measured": "2026-12-01T00:00:00Z", "params": "params/smoke.yaml", "encoder": "multilingual-e5-small-q4",
        "precision": "no", "optimizer": "fused",
        "intermediate": {
            "mnli": {"batch_size": 4, "max_length": 64, "steps": 10, "seconds_per_step": 1.0, "eval_seconds": 5.0,
                     "train_examples": 64, "prepare_seconds": 2.0},
            "squad_v1": {"batch_size": 4, "max_length": 128, "steps": 10, "seconds_per_step": 3.0,
                         "eval_seconds": 7.0, "train_examples": 32, "prepare_seconds": 4.0}},
        "srl": {"batch_size": 8, "max_length": 128, "encoding": "per_sentence", "steps": 10, "seconds_per_step": 0.5,
                "eval_seconds": 2.0, "train_instances": 400, "prepare_seconds": 3.0},
        "srl_scoring": {"files": 3, "sentences": 60, "seconds": 6.0, "seconds_per_sentence": 0.1},
        "pos": {"batch_size": 8, "max_length": 128, "steps": 10, "seconds_per_step": 0.25, "eval_seconds": 1.0,
                "prepare_seconds": 1.0, "seconds_per_scored_sentence": 0.01},
        "overheads": {"per_run_seconds": 30.0, "per_study_seconds": 40.0},
    }
    rates.update(changes)
    return rates


def _context(config, tmp_path: Path, data_root: Path) -> StudyContext:
    return StudyContext(config=config, params_file=Path("params/smoke.yaml"), data_root=data_root,
                        data_fingerprint="a" * 64, languages=["de", "zh"], encoder_id={"weights_sha256": "e" * 64},
                        provenance={}, reports_dir=tmp_path / "reports",
                        stage_cache=StageCache(tmp_path / "cache" / "stages"))


@pytest.mark.needs_data
def test_the_forecast_is_the_grid_s_work_at_the_measured_rates(tiny_params, tmp_path, data_root):
    config = tiny_params(schedules=["none", "seq:mnli>squad_v1"])
    ctx = _context(config, tmp_path, data_root)
    runs = ctx.runs()
    stages = ctx.stages(runs[1])  # mnli, then squad_v1 on top
    f = forecast(ctx, _rates(), stages, runs)
    # smoke: 4 steps per task, an evaluation every 4; SRL 6 steps, evaluations at 3 and 6; POS 4 steps, 1 evaluation
    assert f.parts["intermediate training"] == pytest.approx(4 * 1.0 + 4 * 3.0)
    assert f.parts["intermediate dev evaluation"] == pytest.approx(5.0 + 7.0)
    assert f.parts["SRL training"] == pytest.approx(2 * 6 * 0.5)
    assert f.parts["SRL dev evaluation"] == pytest.approx(2 * 2 * 2.0)
    scored = count_scored_sentences(ctx)
    assert scored == 5 * 20  # English test and dev, de, zh, the vi gold set: 20 sentences each (max_eval_sentences)
    assert f.parts["SRL zero-shot scoring"] == pytest.approx(2 * scored * 0.1)
    pos_scored = count_scored_sentences(ctx, pos=True)
    assert f.parts["POS"] == pytest.approx(2 * (4 * 0.25 + 1.0 + 1.0 + pos_scored * 0.01))
    assert f.parts["data preparation"] == pytest.approx(2.0 + 4.0 + 2 * 3.0)
    assert f.parts["per-run overhead"] == 60.0 and f.parts["per-study overhead"] == 40.0
    assert f.seconds == pytest.approx(sum(f.parts.values()))
    assert "rates measured with optimizer fused" not in " ".join(f.warnings)
    assert format_forecast(f)[0].startswith("predicted wall time on this machine:")


@pytest.mark.needs_data
def test_a_shape_or_setting_the_rates_were_not_measured_at_is_scaled_and_named(tiny_params, tmp_path, data_root):
    config = tiny_params(schedules=["none"], srl={"optim": {"batch_size": 16}}, runtime={"optimizer": "for_loop"})
    ctx = _context(config, tmp_path, data_root)
    f = forecast(ctx, _rates(), [], ctx.runs())
    assert f.parts["SRL training"] == pytest.approx(6 * 0.5 * 2)  # twice the batch: twice the step
    text = "\n".join(format_forecast(f))
    assert "srl: measured at batch 8 x 128, scaled to 16 x 128" in text
    assert "rates measured with optimizer fused, the study uses for_loop" in text


@pytest.mark.needs_data
def test_target_sizes_cost_their_own_runs_and_pos_only_once(tiny_params, tmp_path, data_root):
    config = tiny_params(schedules=["none"], srl={"train_sentences": [100, "all"], "budget": {"unit": "epochs",
                                                                                               "per_task": 1}})
    ctx = _context(config, tmp_path, data_root)
    f = forecast(ctx, _rates(), [], ctx.runs())
    # one epoch: 100 / 8 -> 13 steps and 400 / 8 -> 50 steps
    assert f.parts["SRL training"] == pytest.approx((13 + 50) * 0.5)
    pos_scored = count_scored_sentences(ctx, pos=True)
    assert f.parts["POS"] == pytest.approx(4 * 0.25 + 1.0 + 1.0 + pos_scored * 0.01)  # at the largest size only


def test_rates_of_a_task_never_measured_are_refused_by_name(tiny_params, tmp_path):
    config = tiny_params(schedules=["single:mnli"])
    ctx = _context(config, tmp_path, tmp_path)
    rates = _rates()
    del rates["intermediate"]["mnli"]
    with pytest.raises(MissingRates, match=r"no rates measured here for task\(s\) mnli"):
        forecast(ctx, rates, ctx.stages(ctx.runs()[0]), [])


def test_rates_are_filed_under_this_machine_and_found_again(tmp_path):
    import json

    from study.infra.hardware import machine_key, rates_file
    from study.orchestration.cost import load_rates

    machine = machine_key()
    path = rates_file(tmp_path, machine)
    assert path.parent == tmp_path / "rates" and path.name.endswith(f"-{machine['threads']}t.json")
    assert load_rates(tmp_path) is None
    path.parent.mkdir()
    path.write_text(json.dumps(_rates()))
    assert load_rates(tmp_path)["srl"]["seconds_per_step"] == 0.5
    other = rates_file(tmp_path, {**machine, "threads": machine["threads"] + 1})
    assert other != path  # another thread count is another machine for the rates


@pytest.mark.needs_data
def test_evaluations_and_data_preparation_scale_with_the_part_of_a_split_the_study_uses(tiny_params, tmp_path,
                                                                                         data_root):
    config = tiny_params(schedules=["none"], pos={"enabled": False})  # smoke: 20 dev and 400 train sentences
    ctx = _context(config, tmp_path, data_root)
    rates = _rates()
    rates["srl"].update(dev_sentences=1000, train_sentences=8000)
    f = forecast(ctx, rates, [], ctx.runs())
    assert f.parts["SRL dev evaluation"] == pytest.approx(2 * 2.0 * 20 / 1000)
    assert f.parts["data preparation"] == pytest.approx(3.0 * 400 / 8000)


@pytest.mark.needs_data
def test_scoring_is_forecast_per_file_and_per_sentence_where_the_rates_separate_them(tiny_params, tmp_path,
                                                                                       data_root):
    from study.orchestration.plan import scored_files

    config = tiny_params(schedules=["none"], pos={"enabled": False})
    ctx = _context(config, tmp_path, data_root)
    rates = _rates(srl_scoring={"files": 3, "sentences": 60, "seconds": 6.0, "seconds_per_sentence": 0.1,
                                "per_file_seconds": 0.5, "run_seconds_per_sentence": 0.02})
    f = forecast(ctx, rates, [], ctx.runs())
    files, scored = len(scored_files(ctx)), count_scored_sentences(ctx)
    assert files == 5 and f.parts["SRL zero-shot scoring"] == pytest.approx(files * 0.5 + scored * 0.02)
