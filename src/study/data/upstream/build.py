"""``study data fetch``: download the upstream sources, convert them, verify, and move the bundle into place.

The bundle is assembled in a sibling ``.partial`` folder and renamed onto the data root only when every
file matches the shipped ``SHA256SUMS``: a data root either does not exist or holds a verified bundle.
Downloads are kept in the cache's ``upstream/`` mirror, so an interrupted fetch resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from study.data.bundle import CHECKSUMS, read_checksums, verify_bundle
from study.data.upstream.download import Downloader
from study.data.upstream.recipes import Fetched, bundle_recipes, licence_copies
from study.data.upstream.sources import BUNDLE_CHECKSUMS, BUNDLE_README, Source, load_sources
from study.infra.errors import DataError
from study.infra.paths import cache_root

Log = Callable[[str], None]


@dataclass(frozen=True)
class FetchResult:
    root: Path
    built: bool  # False: a verified bundle was already there
    files: int
    fingerprint: str


def fetch_bundle(root: Path, base_url: str | None = None, mirror_dir: Path | None = None,
                 log: Log = print, progress: bool | None = None) -> FetchResult:
    """Make ``root`` hold the verified bundle, building it from upstream when it does not exist yet.

    ``progress`` None shows bars only on a terminal; elsewhere one line per phase is printed.
    """
    root = Path(root).expanduser().resolve()
    if root.exists() and any(root.iterdir()):
        return _existing(root)
    sources = load_sources()
    expected = read_checksums(BUNDLE_CHECKSUMS.parent)
    recipes = bundle_recipes(sources)
    made = {r.relpath for r in recipes}
    if made != set(expected):
        raise DataError(f"sources.tsv and SHA256SUMS disagree: no recipe for {sorted(set(expected) - made)}, "
                        f"no checksum for {sorted(made - set(expected))}")
    downloader = Downloader(mirror_dir or cache_root() / "upstream", base_url)
    fetched = _download_all(downloader, sources, log, progress)
    staging = root.with_name(f".{root.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    log(f"converting {len(recipes)} files into {staging}")
    for recipe in _bar(recipes, "convert", "file", progress):
        data = recipe.make(fetched)
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected[recipe.relpath]:
            raise DataError(f"{recipe.relpath}: built with sha256 {digest[:16]}..., SHA256SUMS says "
                            f"{expected[recipe.relpath][:16]}...; made from {recipe.describe()} (a conversion bug "
                            "or an altered source: please report it with this line)")
        _write(staging / recipe.relpath, data)
    for source in licence_copies(sources):
        _write(staging / (source.copy_to or ""), fetched[source].read_bytes())
    shutil.copyfile(BUNDLE_CHECKSUMS, staging / CHECKSUMS)
    shutil.copyfile(BUNDLE_README, staging / "README.md")
    report = verify_bundle(staging, memo=False)
    if not report.ok:
        raise DataError(report.problem_message())
    if root.exists():
        root.rmdir()  # empty (checked above)
    root.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, root)
    return FetchResult(root, True, len(report.files), report.fingerprint)


def _existing(root: Path) -> FetchResult:
    """A non-empty data root is never overwritten: it must already be the verified bundle."""
    if not (root / CHECKSUMS).is_file():
        raise DataError(f"{root} exists and is not a data bundle (no {CHECKSUMS}); fetch into an empty or new "
                        "folder (--data-root, STUDY_DATA) or move it away")
    report = verify_bundle(root)
    if not report.ok:
        raise DataError(report.problem_message() + f", or move {root} away and run `study data fetch` again")
    return FetchResult(root, False, len(report.files), report.fingerprint)


def _download_all(downloader: Downloader, sources: list[Source], log: Log, progress: bool | None) -> Fetched:
    """Every source's local copy; each is checked once (present and verified, or downloaded)."""
    needed = [s for s in sources if not downloader.is_present(s)]
    if needed:
        where = downloader.base_url or "GitHub"
        known = sum(s.size or 0 for s in needed)
        log(f"downloading {len(needed)} of {len(sources)} upstream files from {where} into {downloader.mirror_dir} "
            f"({known / 1e6:.0f} MB raw files, plus {sum(s.kind == 'archive' for s in needed)} archives)")
    bar = tqdm(total=sum(s.size or 0 for s in needed) or None, unit="B", unit_scale=True, desc="download",
               disable=not _interactive(progress), file=sys.stderr, leave=False)
    fetched = {s: downloader.local_path(s) for s in sources if s not in needed}  # verified just above
    with bar:
        for source in needed:
            bar.set_postfix_str(f"{source.repo}/{source.path}"[-40:], refresh=False)
            fetched[source] = downloader.fetch(source, bar.update)
    return fetched


def _bar(items: list, desc: str, unit: str, progress: bool | None):
    return tqdm(items, desc=desc, unit=unit, disable=not _interactive(progress), file=sys.stderr, leave=False)


def _interactive(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
