"""The upstream source list (``sources.tsv``) and the URLs each entry is fetched from.

A source is a raw file (``raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH``) or a GitHub archive
(``github.com/OWNER/REPO/archive/COMMIT.tar.gz``) of which only the members listed in
``archive-members.sha256`` are used. A raw file's ``sha256`` is its own; an archive's is the digest of
its used members (:func:`members_digest`): GitHub builds tarballs on the fly, so their bytes are not
stable, but the files in them are, and the full tarball may hold other files that are never read.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from study.infra.errors import DataError

SOURCES_FILE = Path(__file__).with_name("sources.tsv")
MEMBERS_FILE = Path(__file__).with_name("archive-members.sha256")
#: the bundle's checksum list, the byte-level specification a fetch must reproduce
BUNDLE_CHECKSUMS = Path(__file__).with_name("SHA256SUMS")
BUNDLE_README = Path(__file__).with_name("BUNDLE-README.md")

RAW_BASE = "https://raw.githubusercontent.com"
ARCHIVE_BASE = "https://github.com"
_COLUMNS = ["kind", "owner", "repo", "commit", "path", "bytes", "sha256", "copy_to"]


@dataclass(frozen=True)
class Source:
    """One upstream file, pinned by commit and checksum."""

    kind: str  # "raw" or "archive"
    owner: str
    repo: str
    commit: str
    path: str  # file path in the repository, or COMMIT.tar.gz for an archive
    size: int | None  # bytes of a raw file; None for an archive (GitHub builds it on the fly)
    sha256: str
    copy_to: str | None  # bundle path this file is copied to unchanged, if any
    #: an archive's used members {path below its top folder: sha256}; empty for a raw file
    members: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def mirror_path(self) -> str:
        """Where the file lies in a mirror (``raw/OWNER/REPO/COMMIT/PATH``, ``archive/OWNER/REPO/COMMIT.tar.gz``)."""
        return f"{self.kind}/{self.owner}/{self.repo}/{'' if self.kind == 'archive' else self.commit + '/'}{self.path}"

    def url(self, base_url: str | None = None) -> str:
        """The download URL: GitHub's, or the same file under a mirror's ``base_url``."""
        if base_url:
            return f"{base_url.rstrip('/')}/{self.mirror_path}"
        if self.kind == "archive":
            return f"{ARCHIVE_BASE}/{self.owner}/{self.repo}/archive/{self.path}"
        return f"{RAW_BASE}/{self.owner}/{self.repo}/{self.commit}/{self.path}"



def members_digest(files: dict[str, str]) -> str:
    """Digest of an archive's used members: sha256 over ``<sha256>  <path>`` lines sorted by path."""
    lines = "".join(f"{files[p]}  {p}\n" for p in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def load_sources(path: Path = SOURCES_FILE, members_file: Path = MEMBERS_FILE) -> list[Source]:
    """Read the source list with each archive's members; a malformed row is reported with its line number."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header != _COLUMNS:
            raise DataError(f"{path}:1: header must be {' '.join(_COLUMNS)}")
        out = []
        for lineno, row in enumerate(reader, start=2):
            try:
                out.append(_parse_row(row))
            except (ValueError, AssertionError) as exc:
                raise DataError(f"{path}:{lineno}: malformed source row ({exc})") from None
    members = read_members(members_file)
    for i, source in enumerate(out):
        if source.kind != "archive":
            continue
        listed = members.get((source.slug, source.commit), {})
        if members_digest(listed) != source.sha256:
            raise DataError(f"{members_file}: the {len(listed)} members listed for {source.slug} {source.commit} do "
                            f"not have the digest {path.name} gives ({source.sha256[:16]}...); the two files disagree")
        out[i] = Source(**{**source.__dict__, "members": listed})
    return out


def read_members(path: Path = MEMBERS_FILE) -> dict[tuple[str, str], dict[str, str]]:
    """{(OWNER/REPO, COMMIT): {member path: sha256}} from ``## OWNER/REPO COMMIT`` sections of sha256sum lines."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    current: dict[str, str] | None = None
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("## "):
            slug, commit = line[3:].split()
            current = out.setdefault((slug, commit), {})
        elif line and not line.startswith("#"):
            digest, _, member = line.partition("  ")
            if current is None or len(digest) != 64 or not member or ".." in member.split("/"):
                raise DataError(f"{path}:{lineno}: malformed member line {line[:80]!r}")
            current[member] = digest
    return out


def _parse_row(row: list[str]) -> Source:
    kind, owner, repo, commit, path, size, sha256, copy_to = row
    if kind not in {"raw", "archive"}:
        raise ValueError(f"kind {kind!r} is neither raw nor archive")
    if len(commit) != 40 or len(sha256) != 64 or not all(c in "0123456789abcdef" for c in commit + sha256):
        raise ValueError("commit must be 40 and sha256 64 lowercase hex digits")
    if ".." in path.split("/") or path.startswith("/"):
        raise ValueError(f"path {path!r} leaves the repository")
    return Source(kind=kind, owner=owner, repo=repo, commit=commit, path=path,
                  size=None if size == "-" else int(size), sha256=sha256,
                  copy_to=None if copy_to == "-" else copy_to)
