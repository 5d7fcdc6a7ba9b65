"""The CLI's path arguments and env folders, drawn at random: success or one line and exit 2, never a traceback.

Every path argument (``--run``, ``--file``, ``--out``, ``--data-root``, a params file) and every env folder
(``STUDY_CACHE``, ``STUDY_DATA``, ``STUDY_REPORTS``) is drawn from the ways a careless user gets it wrong:
a file where a folder belongs, a folder where a file belongs, empty, missing, under a file, under /proc.
``study.cli.main`` runs in-process, so hundreds of examples take seconds.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from study.cli import main

KINDS = ["file", "empty file", "folder", "empty folder", "missing", "under a file", "under /proc"]


def _path(kind: str, root: Path, name: str) -> str:
    base = root / name
    if kind in {"file", "under a file"}:
        base.write_text("not what the command expects\n")
        return str(base / "child") if kind == "under a file" else str(base)
    if kind == "empty file":
        base.write_bytes(b"")
    elif kind in {"folder", "empty folder"}:
        base.mkdir()
        if kind == "folder":
            (base / "stray.txt").write_text("x\n")
    elif kind == "under /proc":
        return f"/proc/1/study-{name}"
    return str(base)


COMMANDS = {
    "srl score": lambda p: ["srl", "score", "--run", p("run"), "--file", p("file"), "--out", p("out")],
    "data check": lambda p: ["data", "check", "--data-root", p("data")],
    "params show": lambda p: ["params", "show", p("params")],
    "provenance": lambda p: ["provenance", p("params")],
    "train-run": lambda p: ["train-run", p("params"), "none__seed1", "--reports", p("reports")],
}


@given(command=st.sampled_from(sorted(COMMANDS)), kinds=st.fixed_dictionaries(
    {name: st.sampled_from(KINDS) for name in ("run", "file", "out", "data", "params", "reports")}),
    env=st.dictionaries(st.sampled_from(["STUDY_CACHE", "STUDY_DATA", "STUDY_REPORTS"]), st.sampled_from(KINDS)))
def test_bad_paths_and_env_folders_give_one_line_and_exit_2(command, kinds, env):
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    saved = {name: os.environ.get(name) for name in ("STUDY_CACHE", "STUDY_DATA", "STUDY_REPORTS")}
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        try:
            for name, kind in env.items():
                os.environ[name] = _path(kind, root, f"env-{name}")
            argv = COMMANDS[command](lambda name: _path(kinds[name], root, name))
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:  # argparse's own usage errors
                    code = exc.code
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
    text = err.getvalue()
    lines = text.strip().splitlines()
    assert code in (0, 2) and "Traceback" not in text, (argv, env, text)
    if code == 2:  # ours ("study: error: ...") or argparse's ("usage: ..." then "study srl score: error: ...")
        assert lines and lines[-1].startswith("study") and "error: " in lines[-1], text
        assert sum("error" in line for line in lines) == 1, text
