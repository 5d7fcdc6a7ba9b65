"""Fetch upstream sources into a local mirror: resumable, retried, checksummed.

A download goes to ``<file>.part`` and is resumed with an HTTP Range request after a dropped
connection; only a file whose size and sha256 match the source list is renamed to its final name, so
a failed or partial download never looks complete. An archive is checked member by member (its used
members' digest) and only those members are kept, extracted into ``tree/``; the tarball is then deleted.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path

from study.data.upstream.sources import Source, members_digest
from study.infra.errors import DataError
from study.infra.hashing import sha256_file as _sha256

_CHUNK = 1 << 16
_USER_AGENT = "study-data-fetch/1 (+https://github.com)"
#: HTTP statuses worth retrying (the server may recover); any other error status is final
_TRANSIENT = {408, 425, 429, 500, 502, 503, 504}
_DONE = ".complete"

Progress = Callable[[int], None]  # called with the number of bytes just received


class Downloader:
    """Downloads sources from GitHub (or a mirror's ``base_url``) into ``mirror_dir``."""

    def __init__(self, mirror_dir: Path, base_url: str | None = None, attempts: int = 5,
                 backoff_s: float = 1.0, timeout_s: float = 60.0) -> None:
        self.mirror_dir = Path(mirror_dir)
        self.base_url = base_url
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s

    def raw_path(self, source: Source) -> Path:
        return self.mirror_dir / source.mirror_path

    def tree_path(self, source: Source) -> Path:
        """Where an archive's used members are extracted (``tree/OWNER/REPO/COMMIT``)."""
        return self.mirror_dir / "tree" / source.owner / source.repo / source.commit

    def is_present(self, source: Source) -> bool:
        if source.kind == "archive":
            return (self.tree_path(source) / _DONE).is_file()
        path = self.raw_path(source)
        return path.is_file() and path.stat().st_size == source.size and _sha256(path) == source.sha256

    def local_path(self, source: Source) -> Path:
        """Where the local copy of ``source`` lies: the file, or an archive's extracted tree."""
        return self.tree_path(source) if source.kind == "archive" else self.raw_path(source)

    def fetch(self, source: Source, progress: Progress | None = None) -> Path:
        """The local copy of ``source`` (a file, or an archive's extracted tree), downloaded if needed."""
        if self.is_present(source):
            return self.local_path(source)
        url = source.url(self.base_url)
        target = self.raw_path(source)
        part = target.with_name(target.name + ".part")
        self._download(url, part, source.size, progress)
        if source.kind == "archive":
            tree = self._extract(source, url, part)
            part.unlink()
            return tree
        size, digest = part.stat().st_size, _sha256(part)
        if size != source.size or digest != source.sha256:
            part.unlink()
            raise DataError(f"{url}: got {size:,} bytes with sha256 {digest[:16]}..., expected {source.size:,} bytes "
                            f"with sha256 {source.sha256[:16]}... (the pinned file of {source.slug}); the download "
                            "was discarded: check --base-url, or re-run if a proxy altered it")
        os.replace(part, target)
        return target

    def _download(self, url: str, part: Path, size: int | None, progress: Progress | None) -> None:
        """Stream ``url`` into ``part``, resuming from what it holds; retry transient failures."""
        part.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, self.attempts + 1):
            have = part.stat().st_size if part.exists() else 0
            if size is not None and have > size:
                part.unlink()  # more bytes than the file has: not a prefix of it
                have = 0
            try:
                self._stream(url, part, have, progress)
                return
            except urllib.error.HTTPError as exc:
                if exc.code == 416:  # the range starts at or past the end: start again from zero
                    part.unlink(missing_ok=True)
                elif exc.code not in _TRANSIENT:
                    raise DataError(f"{url}: HTTP {exc.code} {exc.reason}; the file is not at this address "
                                    "(check --base-url, or whether the pinned commit is still reachable)") from None
                error: Exception = exc
            except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError, _ShortRead) as exc:
                error = exc
            if attempt == self.attempts:
                raise DataError(f"{url}: download failed after {self.attempts} attempts ({_reason(error)}); what "
                                f"arrived is kept in {part} and the next run resumes from it") from None
            time.sleep(self.backoff_s * 2 ** (attempt - 1))

    def _stream(self, url: str, part: Path, have: int, progress: Progress | None) -> None:
        headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout_s) as resp:
            resumed = have and resp.status == 206
            expected = resp.headers.get("Content-Length")
            received = 0
            with open(part, "ab" if resumed else "wb") as out:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    if progress:
                        progress(len(chunk))
            if expected is not None and received < int(expected):
                raise _ShortRead(f"connection closed after {received:,} of {int(expected):,} bytes")

    def _extract(self, source: Source, url: str, tarball: Path) -> Path:
        """Keep the archive's used members under ``tree/``, after checking their digest; name the URL if not."""
        tree = self.tree_path(source)
        staging = tree.with_name(tree.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        hashes: dict[str, str] = {}
        try:
            with tarfile.open(tarball, mode="r:gz") as archive:
                for member in archive:
                    rel = member.name.split("/", 1)[1] if "/" in member.name else ""
                    if not member.isfile() or rel not in source.members:  # listed paths never hold ".."
                        continue
                    data = archive.extractfile(member).read()
                    hashes[rel] = hashlib.sha256(data).hexdigest()
                    dest = staging / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a local write error (disk full), not a bad archive
            tarball.unlink(missing_ok=True)
            raise DataError(f"{url}: truncated or not a gzip tar archive ({_reason(exc)}); it was discarded, "
                            "re-run to download it again") from None
        missing = sorted(set(source.members) - set(hashes))
        altered = sorted(p for p, h in hashes.items() if h != source.members[p])
        if missing or altered:
            shutil.rmtree(staging, ignore_errors=True)
            tarball.unlink(missing_ok=True)
            what = (f"{len(missing):,} of its {len(source.members):,} used members are missing (first: {missing[0]})"
                    if missing else f"{len(altered):,} member(s) differ from the pinned files (first: {altered[0]})")
            raise DataError(f"{url}: {what}; the download was discarded (check --base-url, or whether "
                            f"{source.slug} {source.commit[:12]} is still the pinned commit)")
        (staging / _DONE).write_text(f"{members_digest(hashes)}\n", encoding="utf-8")
        shutil.rmtree(tree, ignore_errors=True)
        tree.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, tree)
        return tree


class _ShortRead(Exception):
    """The server closed the connection before the promised length (retried, resuming)."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__
