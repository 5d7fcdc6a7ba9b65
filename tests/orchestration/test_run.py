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
