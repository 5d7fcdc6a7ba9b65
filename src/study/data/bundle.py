"""The read-only data bundle: locate it, verify it against ``SHA256SUMS``, and inventory it.

Nothing in the study writes into the bundle. ``verify_bundle`` is run before any study so that a
missing or altered file is reported up front (naming the file) rather than as a confusing parse
error hours later; the checksum list's own sha256 is the bundle fingerprint that every result's
provenance carries.

Every notebook kernel opens the study, so the bundle is verified dozens of times per grid; hashing
and counting 106 MB each time cost ~2 s per kernel. A file's verdict is therefore remembered in the
cache, keyed by its stat (size, mtime, ctime, inode): a file whose stat changed in any way is hashed
again, as git's index does. Files modified within the last few seconds are never remembered (a
write in the same timestamp tick would leave the stat unchanged).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from study.infra.atomic import write_text
from study.infra.errors import DataError
from study.infra.hashing import file_stat_key, is_racy, sha256_file, stable_hash
from study.infra.paths import DATA_ENV, cache_root, default_data_root

CHECKSUMS = "SHA256SUMS"
MEMO_FORMAT = 1


@dataclass(frozen=True)
class BundleFile:
    """One file of the bundle with what it holds."""

    relpath: str
    group: str  # "srl" or "intermediate"
    name: str  # language (srl) or task (intermediate)
    split: str
    examples: int | None  # sentences (SRL), examples (tasks); None for documentation files
    unit: str


@dataclass
class BundleReport:
    """Outcome of a verification: per-file status and the problems found."""

    root: Path
    fingerprint: str
    files: list[BundleFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.altered)

    def problem_message(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing ({', '.join(self.missing[:5])})")
        if self.altered:
            parts.append(f"{len(self.altered)} altered, checksum mismatch ({', '.join(self.altered[:5])})")
        return (
            f"data bundle {self.root}: " + "; ".join(parts) +
            f". Restore these files from the original bundle (the list is {self.root / CHECKSUMS})"
        )


def resolve_data_root(override: str | Path | None = None) -> Path:
    """The bundle root: explicit override (params ``data_root``), else ``$STUDY_DATA``, else default."""
    root = Path(override).expanduser().resolve() if override else default_data_root()
    if not root.is_dir():
        raise DataError(
            f"data bundle not found at {root}: run `study data fetch --data-root {root}` "
            "to build it there from its public sources"
            f", or set {DATA_ENV}=/path/to/data or params 'data_root' to an existing bundle"
        )
    if not (root / CHECKSUMS).is_file():
        raise DataError(f"{root}: no {CHECKSUMS} file; this does not look like the study's data bundle")
    return root


def read_checksums(root: Path) -> dict[str, str]:
    """Parse ``SHA256SUMS`` (``<hex>  ./relpath`` lines) into {relpath: hex}.

    The list is the gate every study passes, so a list that names no file, or a path that leaves
    the bundle (absolute, or with ``..``), is refused rather than read.
    """
    out: dict[str, str] = {}
    path = root / CHECKSUMS
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, rel = line.partition("  ")
        if len(digest) != 64 or not rel or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise DataError(f"{path}:{lineno}: malformed checksum line {line[:80]!r}")
        rel = rel.removeprefix("./")
        if rel.startswith("/") or ".." in Path(rel).parts or rel == CHECKSUMS:
            raise DataError(f"{path}:{lineno}: {rel!r} is not a file inside the bundle; restore {CHECKSUMS} "
                            "from the original bundle")
        out[rel] = digest
    if not out:
        raise DataError(f"{path}: lists no files, so nothing could be verified; restore it from the original bundle")
    return out


def describe_file(root: Path, rel: str) -> BundleFile:
    """Classify a bundle file and count what it holds."""
    parts = rel.split("/")
    path = root / rel
    if parts[0] == "srl" and len(parts) == 3 and path.suffix in {".conllu", ".conllup"}:
        return BundleFile(rel, "srl", parts[1], path.stem, count_conllu_sentences(path), "sentences")
    if parts[0] == "intermediate" and len(parts) == 3 and path.suffix != ".txt":
        task, fname = parts[1], parts[2]
        count, unit = count_examples(path)
        return BundleFile(rel, "intermediate", task, guess_split(fname), count, unit)
    if parts[0] == "srl" and path.suffix == ".tsv":
        return BundleFile(rel, "srl", parts[1], "rolesets", count_lines(path) - 1, "rows")  # minus header
    return BundleFile(rel, "doc", parts[0], "-", None, "")


def guess_split(fname: str) -> str:
    """Split name from a file name (``dev-v1.1.json`` -> dev, ``esnli_s1.test`` -> test)."""
    low = fname.lower()
    for split in ("train", "test", "dev", "val"):
        if split in low:
            return "dev" if split == "val" else split
    return "-"


def count_conllu_sentences(path: Path) -> int:
    """Number of sentences (blank-line separated blocks) in a CoNLL-U(-Plus) file."""
    n = 0
    in_block = False
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                in_block = True
            elif in_block:
                n += 1
                in_block = False
    return n + int(in_block)


def count_lines(path: Path) -> int:
    """Non-empty lines (bytes, so that invalid UTF-8 cannot stop the count)."""
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def count_examples(path: Path) -> tuple[int | None, str]:
    """Examples in an intermediate-task file, by format."""
    suffix = path.suffix
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return sum(len(p["qas"]) for art in data["data"] for p in art["paragraphs"]), "questions"
    if suffix == ".csv":
        text = path.read_text(encoding="utf-8", errors="replace")
        return max(sum(1 for _ in csv.reader(io.StringIO(text))) - 1, 0), "rows"
    if suffix == ".tsv":
        n = count_lines(path)
        with open(path, "rb") as fh:
            first = fh.readline().decode("utf-8", errors="replace").lower()
        has_header = first.startswith("sentence\t")
        return n - int(has_header), "rows"
    if suffix in {".jsonl", ".test"}:
        return count_lines(path), "lines"
    return None, ""


def verify_bundle(root: Path | None = None, memo: bool = True) -> BundleReport:
    """Check every file listed in ``SHA256SUMS`` exists and is unaltered; inventory them.

    With ``memo`` a file whose stat is unchanged since it last verified is not hashed again
    (module docstring); ``memo=False`` hashes everything.
    """
    root = resolve_data_root(root)
    listed = read_checksums(root)
    report = BundleReport(root=root, fingerprint=sha256_file(root / CHECKSUMS))
    memo_path = _memo_path(root, report.fingerprint) if memo else None
    known = _read_memo(memo_path)
    remembered: dict[str, dict] = {}
    for rel, digest in sorted(listed.items()):
        path = root / rel
        if not path.is_file():
            report.missing.append(rel)
            continue
        stat = file_stat_key(path)
        entry = known.get(rel)
        if isinstance(entry, dict) and entry.get("stat") == stat and entry.get("sha256") == digest:
            try:
                report.files.append(BundleFile(**entry["file"]))
                remembered[rel] = entry
                continue
            except (TypeError, KeyError):
                pass  # a damaged memo entry: verify the file again
        if sha256_file(path) != digest:
            report.altered.append(rel)
            continue
        described = describe_file(root, rel)
        report.files.append(described)
        if not is_racy(path):
            remembered[rel] = {"stat": stat, "sha256": digest, "file": asdict(described)}
    present = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    report.unlisted = sorted(rel for rel in present - set(listed) - {CHECKSUMS} if not _is_documentation(rel))
    if memo_path is not None and remembered != known:
        _write_memo(memo_path, root, remembered)
    return report


def _is_documentation(rel: str) -> bool:
    """The bundle's README and the upstream licences a fetch copies beside the data (not data, not listed)."""
    return rel == "README.md" or rel.startswith("LICENSES/")


def _memo_path(root: Path, fingerprint: str) -> Path:
    return cache_root() / "bundle-verified" / f"{stable_hash([str(root), fingerprint])}.json"


def _read_memo(path: Path | None) -> dict[str, dict]:
    """The remembered verdicts, or none if the memo is absent, unreadable or of another format."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data["files"]) if data.get("format") == MEMO_FORMAT else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_memo(path: Path, root: Path, files: dict[str, dict]) -> None:
    """Remember verdicts; a cache that cannot be written only costs the next process a re-hash."""
    with contextlib.suppress(OSError):
        write_text(path, json.dumps({"format": MEMO_FORMAT, "root": str(root), "files": files}) + "\n")


def require_valid_bundle(root: Path | None = None) -> BundleReport:
    """Verify the bundle and raise :class:`DataError` (one line) if anything is wrong."""
    report = verify_bundle(root)
    if not report.ok:
        raise DataError(report.problem_message())
    return report


def format_inventory(report: BundleReport) -> str:
    """A plain-text table: group, task/language, split, file, examples."""
    rows = [("group", "task/lang", "split", "file", "examples")]
    for f in report.files:
        if f.group == "doc":
            continue
        count = "" if f.examples is None else f"{f.examples:,} {f.unit}"
        rows.append((f.group, f.name, f.split, f.relpath, count))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
