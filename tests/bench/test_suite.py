"""The benchmark's own pieces: FLOP counting and the Trainer baseline's label alignment."""

from __future__ import annotations

import pytest

from study.bench.baseline import encode_pair
from study.bench.flops import encoder_matmul_params, training_flops
from tests.bench.records import engine_record, table_phases
from tests.helpers import REPO


@pytest.fixture(scope="module")
def tokenizer(encoder_dir):
    from study.encoder.load import load_tokenizer

    return load_tokenizer("multilingual-e5-small-q4")


def test_baseline_labels_sit_on_first_subtokens_of_sentence_words_only(tokenizer):
    forms = ["Unbelievably", ",", "she", "reconsidered", "it"]
    features, first = encode_pair(tokenizer, forms, 4, [1, 0, 2, 0, 3], max_length=64)
    labelled = [i for i, lab in enumerate(features["labels"]) if lab != -100]
    assert sorted(first) == [0, 1, 2, 3, 4] and sorted(first.values()) == labelled
    assert [features["labels"][first[w]] for w in range(5)] == [1, 0, 2, 0, 3]
    enc = tokenizer(forms, [forms[3]], is_split_into_words=True)
    assert len(features["input_ids"]) == len(enc["input_ids"])  # the predicate segment is there, unlabelled
    assert max(first.values()) < enc.sequence_ids().index(1)


def test_training_flops_follow_the_six_n_rule_plus_attention(encoder_and_tokenizer):
    encoder, _ = encoder_and_tokenizer
    cfg = encoder.config
    dense = sum(p.numel() for n, p in encoder.named_parameters()
                if n.startswith("encoder.layer") and n.endswith("weight") and p.dim() == 2)
    assert encoder_matmul_params(cfg) == dense
    one = training_flops(cfg, [10])
    assert one == 6 * dense * 10 + 12 * cfg.num_hidden_layers * cfg.hidden_size * 100
    assert training_flops(cfg, [10, 10]) == 2 * one


def test_a_grid_shaped_study_is_built_from_one_finished_run(tmp_path):
    """The analysis benchmark's input: every run of the grid, real prediction files linked, scores jittered."""
    import json

    import pandas as pd

    from study.bench.analysis_shape import replicate_study
    from study.config import load_params
    from study.infra.hashing import sha256_file

    src = tmp_path / "src"
    (src / "predictions").mkdir(parents=True)
    (src / "predictions" / "de-test.conllu").write_text("# text = x\n1\tx\n\n")
    pd.DataFrame([{"run": "none__seed1", "schedule": "none", "seed": 1, "task": "srl", "language": "de",
                   "split": "test", "metric": "head_f1", "label": "", "value": 0.5}]).to_csv(src / "results.csv",
                                                                                           index=False)
    (src / "DONE.json").write_text(json.dumps({"run": "none__seed1", "provenance": {"params_hash": "p"}}))
    config = load_params(REPO / "params" / "default.yaml")
    study = tmp_path / "study"
    assert replicate_study(src, config, study) == 3 * 4 * 2  # schedules x seeds x English SRL sizes
    values = []
    for run_dir in sorted((study / "runs").iterdir()):
        assert (run_dir / "predictions" / "de-test.conllu").is_symlink()
        done = json.loads((run_dir / "DONE.json").read_text())
        assert done["run"] == run_dir.name and done["results_sha256"] == sha256_file(run_dir / "results.csv")
        row = pd.read_csv(run_dir / "results.csv").iloc[0]
        assert row["run"] == run_dir.name
        assert str(row["train_sentences"]) == ("1000" if "__n1000__" in run_dir.name else "all")
        values.append(row["value"])
    assert len(set(values)) == 24 and abs(sum(values) / 24 - 0.5) < 0.01  # jittered around the real score


def test_kept_phases_are_reported_with_the_code_and_time_that_measured_them(tmp_path):
    import json

    from study.bench.suite import _run_phase, format_markdown

    made = {"code": "abc1234", "at": "2026-11-26 10:00 UTC"}
    (tmp_path / "smoke_study.json").write_text(json.dumps({"seconds": 200.0, "measured_with": made}))
    (tmp_path / "gemm.json").write_text(json.dumps({"gemm_flops": 1.0}))  # from before origins were recorded
    kept = {name: _run_phase(name, tmp_path, ["unused"], log=lambda _: None, reuse=True)
            for name in ("smoke_study", "gemm")}
    assert kept["smoke_study"]["reused_from"].endswith("smoke_study.json")
    report = {"machine": {"date": "d", "processor": "p", "cpus_usable": 2, "torch_threads": 2, "platform": "l",
                          "python": "3.11"}, "code": {"describe": "new"}, "options": {"steps": 100},
              "table": [], "phases": kept}
    text = format_markdown(report)
    assert "smoke_study (abc1234, 2026-11-26 10:00 UTC)" in text and ", gemm." in text


def test_the_table_compares_the_other_adamw_implementation_with_the_one_the_params_use(tmp_path):
    from study.bench.suite import _table, other_optimizer

    phases = table_phases(engine_per_predicate=engine_record(30.0, dev_head_f1=0.4),
                          engine_per_sentence=engine_record(100.0),
                          engine_per_sentence_other_optimizer=engine_record(108.0, dev_head_f1=0.446,
                                                                            optimizer="fused"))
    row = next(r for r in _table(phases) if "AdamW" in r["figure"])
    assert row["figure"] == "per-sentence with fused AdamW (runtime.optimizer): speed vs default (for_loop AdamW)"
    assert row["value"] == "1.08x" and "dev F1 44.6 vs 44.7" in row["basis"]
    assert other_optimizer(str(REPO / "params/default.yaml")) == "for_loop"
    assert other_optimizer(str(REPO / "params/smoke.yaml")) == "for_loop"


def test_the_table_compares_the_other_kernel_choice_with_the_one_the_params_use():
    from study.bench.suite import _table, other_determinism

    phases = table_phases(engine_record(deterministic=False),
                          engine_per_sentence_other_determinism=engine_record(99.0, deterministic=True))
    row = next(r for r in _table(phases) if "runtime.deterministic" in r["figure"])
    assert row["figure"] == ("per-sentence with deterministic kernels (runtime.deterministic): speed vs default "
                             "(non-deterministic kernels)")
    assert row["value"] == "0.99x"
    assert other_determinism(str(REPO / "params/default.yaml")) == "off"
    assert other_determinism(str(REPO / "params/smoke.yaml")) == "off"


@pytest.mark.parametrize("native", [True, False])
def test_mfu_is_against_the_fastest_gemm_and_the_other_precision_is_measured_only_where_native(
        monkeypatch, native):
    from study.bench.suite import _table, other_precision
    from study.infra import hardware

    # an AVX2 CPU: bf16 emulated at 1.3 GFLOP/s, fp32 at 140; a bf16 CPU: bf16 at twice fp32
    gemm = ({"gemm_flops": 2e11, "gemm_flops_bf16": 4e11, "bf16_native": True} if native
            else {"gemm_flops": 1.4e11, "gemm_flops_bf16": 1.3e9, "bf16_native": False})
    precision = "bf16" if native else "no"
    phases = table_phases(engine_record(mixed_precision=precision), gemm=gemm)
    row = next(r for r in _table(phases) if r["figure"] == "SRL engine (per-sentence): model FLOPs utilisation")
    assert row["value"].startswith("25% of the bf16 GEMM rate" if native else "71% of the fp32 GEMM rate")
    assert row["met"] is (not native)
    throughput = next(r for r in _table(phases) if r["figure"] == "SRL engine (per-sentence): throughput")
    assert throughput["basis"].endswith("(bf16)" if native else "(fp32)")  # "no" is how params say fp32
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: native)
    monkeypatch.setattr(hardware, "cuda_available", lambda: False)
    assert other_precision(str(REPO / "params/default.yaml")) == ("bf16" if native else None)  # pinned fp32
    assert other_precision(str(REPO / "params/cpu-full.yaml")) == ("no" if native else None)  # auto


def test_the_cost_model_is_checked_against_a_measured_study_it_was_not_fitted_to(tmp_path):
    from study.bench.suite import _cost_rows, write_check_params
    from study.config import load_params

    check = load_params(write_check_params(REPO / "params" / "default.yaml", tmp_path / "check.yaml"))
    default = load_params(REPO / "params" / "default.yaml")
    assert check.schedules == ["none", "seq:mnli>squad_v1", "joint:mnli+squad_v1"]  # none and the primary pair
    assert set(check.schedules) <= set(default.schedules) and check.seeds == [1]
    assert check.srl.optim == default.srl.optim and check.intermediate.tasks == default.intermediate.tasks
    assert check.runtime == default.runtime  # the shapes and settings the rates are per
    assert check.intermediate.budget.per_task < default.intermediate.budget.per_task
    rows = _cost_rows({"forecasts": {"cost_check_study": {"parts": {"SRL training": 900.0, "POS": 200.0}},
                                     "default_study": {"parts": {"SRL training": 36000.0}}},
                       "cost_check_study": {"seconds": 1000.0}})
    assert rows[0]["value"].startswith("1100 s vs 1000 s (+10%)") and rows[0]["met"] is True
    assert rows[1]["value"] == "10.00 h" and rows[1]["met"] is None
    far = _cost_rows({"forecasts": {"cost_check_study": {"parts": {"SRL training": 1300.0}}},
                      "cost_check_study": {"seconds": 1000.0}})
    assert far[0]["met"] is False


def test_srl_score_is_timed_as_a_user_runs_it_and_reported_against_its_target(encoder_dir, tmp_path):
    """The phase runs the CLI in a fresh process on a real saved model and file; the table row reads it."""
    import json

    import torch

    from study.bench.phases import main as phase_main
    from study.bench.suite import _table
    from study.encoder.load import load_tokenizer
    from study.target.srl.data import label_inventory, load_split
    from study.target.srl.model import SrlModel
    from study.target.srl.saved import save_srl_model
    from study.training.heads import srl_head
    from study.training.models import EncoderWithHead, fresh_encoder
    from study.training.wordpieces import WordPieceEncoder
    from tests.helpers import FIXTURE_BUNDLE

    file = FIXTURE_BUNDLE / "srl" / "de" / "test.conllu"
    split = load_split(file, "de", "test", "verbal_and_copula")
    tokenizer = load_tokenizer("multilingual-e5-small-q4")
    labels = label_inventory([split])
    torch.manual_seed(0)
    model = EncoderWithHead(fresh_encoder("multilingual-e5-small-q4", True),
                            srl_head(384, len(labels), "per_sentence", "first")).eval()
    srl = SrlModel(model, labels, WordPieceEncoder(tokenizer, 96), "heads", "verbal_and_copula",
                   tokenizer.pad_token_id, 8, "per_sentence")
    saved = save_srl_model(srl, tmp_path / "m", "multilingual-e5-small-q4", True)
    out = tmp_path / "srl_score.json"
    assert phase_main(["srl_score", "--model", str(saved), "--file", str(file), "--out", str(out)]) == 0
    measured = json.loads(out.read_text())
    assert measured["file"] == "de/test.conllu" and measured["sentences"] == len(split.sentences)
    assert measured["predicates"] == sum(len(p) for p in split.predicates)
    assert 0 < measured["seconds"] < 600 and measured["peak_rss_mb_process"] > 100

    phases = table_phases(srl_score=measured)
    row = next(r for r in _table(phases) if "srl score" in r["figure"])
    assert row["figure"] == f"`study srl score`, one {len(split.sentences)}-sentence file, fresh process"
    assert row["target"] == "<= 15 s" and row["met"] == (measured["seconds"] <= 15)

