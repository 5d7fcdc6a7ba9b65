"""Finished runs packed small enough to commit, and unpacked again on another machine.

A study of many hours outlives the machine it started on: the runs a sitting finished are packed
into ``reports/archive/<study>/<run id>.tar.xz`` (committed), and the next sitting, on whatever
machine, unpacks them and resumes with the runs still to do. A run folder is ~26 MB, nearly all of
it prediction files that repeat the gold CoNLL-U file they were scored against with a few columns
changed; the archive keeps, of each such line, only the columns after the first ten (the
prediction), and rebuilds the file from the verified bundle when unpacking (~0.1 of a run in all).
Every rebuilt file is checked against the checksum taken when it was packed, so an archive
restores the run byte for byte or not at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from study.infra import layout
from study.infra.errors import StudyError
from study.target.srl.data import scored_against

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
#: the columns a prediction file shares with its gold file (ID .. MISC); the rest is the prediction
SHARED_COLUMNS = 10
#: what a run folder holds that a finished run does not need (live progress of the sitting)
SKIPPED = {"progress.json"}


def archive_dir(repo: Path, study_name: str) -> Path:
    return Path(repo) / "reports" / "archive" / study_name


def thin(prediction: bytes, gold: bytes) -> bytes:
    """``prediction`` as the lines that differ from ``gold``: a tail of columns, a whole line, or "=" (same)."""
    out = []
    gold_lines = gold.decode("utf-8").split("\n")
    for k, line in enumerate(prediction.decode("utf-8").split("\n")):
        ref = gold_lines[k] if k < len(gold_lines) else None
        cols = line.split("\t")
        n = SHARED_COLUMNS
        shared = ref is not None and len(cols) > n and cols[:n] == ref.split("\t")[:n]
        if line == ref:
            out.append("=")
        elif shared:
            out.append("T" + "\t".join(cols[SHARED_COLUMNS:]))
        else:
            out.append("L" + line)
    return "\n".join(out).encode("utf-8")


def thicken(thinned: bytes, gold: bytes) -> bytes:
    """The prediction file :func:`thin` was given, from its thinned lines and the same gold file."""
    gold_lines = gold.decode("utf-8").split("\n")
    out = []
    for k, line in enumerate(thinned.decode("utf-8").split("\n")):
        if line == "=":
            out.append(gold_lines[k])
        elif line.startswith("T"):
            out.append("\t".join(gold_lines[k].split("\t")[:SHARED_COLUMNS] + line[1:].split("\t")))
        elif line.startswith("L"):
            out.append(line[1:])
        else:
            raise ValueError(f"line {k + 1}: not a thinned prediction line")
    return "\n".join(out).encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644  # no time stamps: the same run packs the same
    tar.addfile(info, io.BytesIO(data))


def pack_run(run_dir: Path, data_root: Path, out: Path) -> Path:
    """``run_dir`` (a complete run) into ``out`` (.tar.xz); prediction files thinned against the bundle."""
    run_dir = Path(run_dir)
    if not layout.run_dir_is_complete(run_dir):
        raise StudyError(f"{run_dir}: not a complete run (DONE.json, results.csv and predictions); nothing packed")
    done = json.loads((run_dir / layout.DONE).read_text())
    files: dict[str, dict] = {}
    buf = io.BytesIO()
    with lzma.open(buf, "wb", preset=9) as xz, tarfile.open(fileobj=xz, mode="w") as tar:
        for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
            rel = path.relative_to(run_dir).as_posix()
            if rel in SKIPPED or any(part.startswith(".") for part in Path(rel).parts):
                continue
            data = path.read_bytes()
            entry = {"sha256": _sha256(data)}
            gold = scored_against(data_root, path) if path.parent == layout.predictions_dir(run_dir) else None
            if gold is not None and gold.is_file():
                reference = gold.read_bytes()
                thinned = thin(data, reference)
                if thicken(thinned, reference) == data:  # checked now, not first when it is needed
                    entry.update(gold=gold.relative_to(data_root).as_posix(), gold_sha256=_sha256(reference))
                    data = thinned
            files[rel] = entry
            _add(tar, ("thin/" if "gold" in entry else "run/") + rel, data)
        manifest = {"format": ARCHIVE_FORMAT, "run": run_dir.name, "params_hash": done["provenance"]["params_hash"],
                    "code": done["provenance"]["code"]["describe"], "files": files}
        _add(tar, MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(out)
    return out


def read_manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:xz") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise StudyError(f"{archive}: no {MANIFEST}; not a run archive")
        return json.loads(member.read())


def unpack_run(archive: Path, data_root: Path, runs_dir: Path) -> Path:
    """The run of ``archive`` as ``runs_dir/<run id>``, every file checked against its packed checksum."""
    archive = Path(archive)
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    try:
        tar = tarfile.open(archive, "r:xz")  # noqa: SIM115 (closed by the with below, after the error check)
    except (OSError, tarfile.TarError, lzma.LZMAError) as exc:
        raise StudyError(f"{archive}: unreadable run archive ({exc}); delete it and pack the run again") from None
    with tar, tempfile.TemporaryDirectory(prefix=".unpack-", dir=runs_dir) as tmp:
        try:
            return _unpack(tar, archive, data_root, Path(runs_dir), Path(tmp))
        except (tarfile.TarError, lzma.LZMAError, EOFError, KeyError, json.JSONDecodeError) as exc:
            raise StudyError(f"{archive}: damaged run archive ({type(exc).__name__}: {exc}); nothing was unpacked; "
                             "pack the run again where it was made") from None


def _unpack(tar: tarfile.TarFile, archive: Path, data_root: Path, runs_dir: Path, tmp: Path) -> Path:
    """:func:`unpack_run`'s work, staged in ``tmp`` and moved into ``runs_dir`` only when all of it checks out."""
    manifest = json.loads(tar.extractfile(MANIFEST).read())
    staged = tmp / manifest["run"]
    for rel, entry in manifest["files"].items():
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise StudyError(f"{archive}: names a file outside its run ({rel}); not unpacked")
        member = tar.extractfile(("thin/" if "gold" in entry else "run/") + rel)
        data = member.read() if member is not None else b""
        if "gold" in entry:
            gold = Path(data_root) / entry["gold"]
            reference = gold.read_bytes() if gold.is_file() else b""
            if _sha256(reference) != entry["gold_sha256"]:
                raise StudyError(f"{archive}: {rel} was packed against another {entry['gold']} than the bundle's "
                                 f"({gold}); unpack it with the bundle the study used")
            data = thicken(data, reference)
        if _sha256(data) != entry["sha256"]:
            raise StudyError(f"{archive}: {rel} does not match the checksum it was packed with; the archive is "
                             "damaged (nothing was unpacked)")
        (staged / rel).parent.mkdir(parents=True, exist_ok=True)
        (staged / rel).write_bytes(data)
    if not layout.run_dir_is_complete(staged):
        raise StudyError(f"{archive}: the unpacked run is not complete (DONE.json does not match results.csv)")
    target = runs_dir / manifest["run"]
    staged.replace(target)
    return target


@dataclass
class ArchiveReport:
    packed: list[str]
    restored: list[str]
    skipped: list[str]


def pack_study(study_dir: Path, data_root: Path, archive: Path, params_hash: str) -> ArchiveReport:
    """Every complete run of ``study_dir`` made with ``params_hash`` that ``archive`` lacks (none is replaced)."""
    report = ArchiveReport([], [], [])
    for run_dir in sorted((Path(study_dir) / layout.RUNS).glob("*")):
        if not layout.run_dir_is_complete(run_dir):
            continue
        out = Path(archive) / f"{run_dir.name}.tar.xz"
        made_with = json.loads((run_dir / layout.DONE).read_text())["provenance"]["params_hash"]
        if out.exists() or made_with != params_hash:
            report.skipped.append(run_dir.name)
            continue
        pack_run(run_dir, data_root, out)
        report.packed.append(run_dir.name)
    return report


def restore_study(study_dir: Path, data_root: Path, archive: Path, params_hash: str) -> ArchiveReport:
    """Unpack every archived run of ``params_hash`` that ``study_dir`` does not hold complete.

    An archive of other params is refused (one line naming it), as ``study run`` refuses finished
    runs of other params; a run folder that exists but is not complete (a killed sitting) is replaced.
    """
    report = ArchiveReport([], [], [])
    runs_dir = Path(study_dir) / layout.RUNS
    for path in sorted(Path(archive).glob("*.tar.xz")):
        manifest = read_manifest(path)
        if manifest["params_hash"] != params_hash:
            raise StudyError(f"{path}: archived with params hash {manifest['params_hash'][:12]}, these params hash to "
                             f"{params_hash[:12]}; restore it with the params it was made with")
        target = runs_dir / manifest["run"]
        if layout.run_dir_is_complete(target):
            report.skipped.append(manifest["run"])
            continue
        runs_dir.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        unpack_run(path, data_root, runs_dir)
        report.restored.append(manifest["run"])
    return report


def archive_size(archive: Path) -> int:
    return sum(p.stat().st_size for p in Path(archive).glob("*.tar.xz"))

