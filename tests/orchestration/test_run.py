"""What one run reuses is keyed by everything that makes it what it is."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from study.config import expand_runs
from study.intermediate.stage_cache import StageCache
from study.orchestration.run import StudyContext


def _context(tiny_params, tmp_path: Path, **changes) -> StudyContext:
    ctx = StudyContext(config=tiny_params(), params_file=Path("params/smoke.yaml"), data_root=tmp_path / "data",
                       data_fingerprint="a" * 64, languages=["de"], encoder_id={"weights_sha256": "e" * 64},
                       provenance={}, reports_dir=tmp_path / "reports",
                       stage_cache=StageCache(tmp_path / "cache" / "stages"))
    return replace(ctx, **changes)


def test_resume_checkpoints_and_saved_models_are_keyed_by_data_encoder_params_and_run_folder(tiny_params, tmp_path):
    base = _context(tiny_params, tmp_path)
    run = expand_runs(base.config)[0]
    here = base.run_cache_dir(run)
    assert here == _context(tiny_params, tmp_path).run_cache_dir(run)  # same inputs: the run resumes
    assert here.parent.parent.parent == tmp_path / "cache" / "runs"
    others = [
        _context(tiny_params, tmp_path, data_fingerprint="b" * 64),  # an altered bundle
        _context(tiny_params, tmp_path, encoder_id={"weights_sha256": "f" * 64}),  # another encoder
        _context(tiny_params, tmp_path, reports_dir=tmp_path / "elsewhere"),  # another reports folder
        _context(tiny_params, tmp_path, config=tiny_params(srl={"optim": {"lr": 1e-4}})),  # other params
    ]
    assert len({here, *(o.run_cache_dir(run) for o in others)}) == 5


def test_a_recomputed_run_leaves_no_earlier_marker_behind(tiny_params, tmp_path):
    import json

    from study.infra import layout
    from study.orchestration.run import mark_run_complete, write_run

    ctx = _context(tiny_params, tmp_path)
    ctx = replace(ctx, provenance={"code": {"describe": "x"}, "params_hash": ctx.config.params_hash(),
                                   "data_sha256sums": "a" * 64})
    run = expand_runs(ctx.config)[0]
    run_dir = ctx.run_dir(run)
    layout.predictions_dir(run_dir).mkdir(parents=True)
    (layout.predictions_dir(run_dir) / "de-test.conllu").write_text("x\n")
    (run_dir / layout.PENDING).write_text(json.dumps({"results_sha256": "stale"}))  # an earlier, failed attempt
    row = {"task": "srl", "language": "de", "split": "test", "metric": "head_f1", "label": "", "value": 0.5}
    write_run(ctx, run, [row], {}, tmp_path / "cache" / "run", complete=True)
    assert not (run_dir / layout.PENDING).exists()
    mark_run_complete(ctx, run)  # notebook 03's last cell: must not bring the stale marker back
    assert layout.run_dir_is_complete(run_dir)
