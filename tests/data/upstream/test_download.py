"""Downloads over real HTTP (127.0.0.1): resume, retry, verification, and one clear line per failure."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from study.data.upstream.download import Downloader
from study.data.upstream.sources import Source, members_digest
from study.infra.errors import DataError
from tests.helpers.mirror_server import serve_mirror

COMMIT = "a" * 40
PAYLOAD = bytes(range(256)) * 400  # 100 KiB, several read chunks


def _raw(mirror: Path, data: bytes = PAYLOAD, path: str = "dir/file.bin") -> Source:
    file = mirror / "raw" / "o" / "r" / COMMIT / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)
    return Source("raw", "o", "r", COMMIT, path, len(data), hashlib.sha256(data).hexdigest(), None)


def _archive(mirror: Path, members: dict[str, bytes]) -> Source:
    """An archive whose ``keep/`` members are the used ones."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"r-{COMMIT}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    file = mirror / "archive" / "o" / "r" / f"{COMMIT}.tar.gz"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(buf.getvalue())
    used = {n: hashlib.sha256(d).hexdigest() for n, d in members.items() if n.startswith("keep/")}
    return Source("archive", "o", "r", COMMIT, f"{COMMIT}.tar.gz", None, members_digest(used), None, used)


def test_raw_file_is_downloaded_verified_and_not_fetched_again(tmp_path):
    source = _raw(tmp_path / "srv")
    with serve_mirror(tmp_path / "srv") as server:
        got = Downloader(tmp_path / "dl", server.url).fetch(source)
        again = Downloader(tmp_path / "dl", server.url).fetch(source)
    assert got == again and got.read_bytes() == PAYLOAD
    assert len(server.requests) == 1
    assert not list((tmp_path / "dl").rglob("*.part"))


def test_a_dropped_connection_is_resumed_with_a_range_request(tmp_path):
    source = _raw(tmp_path / "srv")
    url_path = "/" + source.mirror_path
    with serve_mirror(tmp_path / "srv", {url_path: "drop-once"}) as server:
        got = Downloader(tmp_path / "dl", server.url, backoff_s=0).fetch(source)
    assert got.read_bytes() == PAYLOAD
    assert [r for _, r in server.requests] == [None, f"bytes={len(PAYLOAD) // 2}-"]


def test_wrong_bytes_give_one_line_naming_the_url_and_leave_no_file(tmp_path):
    source = _raw(tmp_path / "srv")
    with (
        serve_mirror(tmp_path / "srv", {"/" + source.mirror_path: "corrupt"}) as server,
        pytest.raises(DataError) as err,
    ):
        Downloader(tmp_path / "dl", server.url).fetch(source)
    message = str(err.value)
    assert "\n" not in message and f"{server.url}/{source.mirror_path}" in message and "sha256" in message
    assert not [p for p in (tmp_path / "dl").rglob("*") if p.is_file()]


def test_a_404_is_not_retried_and_names_the_url(tmp_path):
    source = _raw(tmp_path / "srv")
    with (
        serve_mirror(tmp_path / "srv", {"/" + source.mirror_path: "404"}) as server,
        pytest.raises(DataError, match=r"HTTP 404") as err,
    ):
        Downloader(tmp_path / "dl", server.url, backoff_s=0).fetch(source)
    assert source.url(server.url) in str(err.value)
    assert len(server.requests) == 1


def test_an_unreachable_server_fails_after_the_retries_with_the_url(tmp_path):
    source = _raw(tmp_path / "srv")
    with serve_mirror(tmp_path / "srv") as server:
        url = server.url
    with pytest.raises(DataError, match="after 2 attempts") as err:
        Downloader(tmp_path / "dl", url, attempts=2, backoff_s=0).fetch(source)
    assert source.url(url) in str(err.value)


def test_archive_keeps_only_the_used_members_after_checking_their_digest(tmp_path):
    source = _archive(tmp_path / "srv", {"keep/a.txt": b"alpha\n", "keep/b.txt": b"beta", "other/c.txt": b"x"})
    with serve_mirror(tmp_path / "srv") as server:
        tree = Downloader(tmp_path / "dl", server.url).fetch(source)
    assert (tree / "keep" / "a.txt").read_bytes() == b"alpha\n"
    assert not (tree / "other").exists()
    assert not (tmp_path / "dl" / source.mirror_path).exists()  # the tarball is not kept


def test_a_truncated_archive_names_the_url_and_is_discarded(tmp_path):
    source = _archive(tmp_path / "srv", {"keep/a.txt": PAYLOAD})
    with (
        serve_mirror(tmp_path / "srv", {"/" + source.mirror_path: "truncate"}) as server,
        pytest.raises(DataError, match="truncated or not a gzip tar archive") as err,
    ):
        Downloader(tmp_path / "dl", server.url).fetch(source)
    assert source.url(server.url) in str(err.value) and "\n" not in str(err.value)
    downloader = Downloader(tmp_path / "dl", server.url)
    assert not downloader.is_present(source) and not downloader.tree_path(source).exists()


def test_an_archive_with_a_missing_or_altered_member_is_refused(tmp_path):
    source = _archive(tmp_path / "srv", {"keep/a.txt": b"alpha", "keep/b.txt": b"beta"})
    altered = Source(**{**source.__dict__, "members": {**source.members, "keep/a.txt": "0" * 64}})
    missing = Source(**{**source.__dict__, "members": {**source.members, "keep/c.txt": "0" * 64}})
    with serve_mirror(tmp_path / "srv") as server:
        with pytest.raises(DataError, match=r"1 member\(s\) differ from the pinned files \(first: keep/a.txt\)"):
            Downloader(tmp_path / "dl", server.url).fetch(altered)
        with pytest.raises(DataError, match=r"1 of its 3 used members are missing \(first: keep/c.txt\)"):
            Downloader(tmp_path / "dl", server.url).fetch(missing)
    assert not Downloader(tmp_path / "dl").tree_path(source).exists()


def test_github_urls_pin_the_commit():
    raw = Source("raw", "UniversalDependencies", "UD_German-GSD", COMMIT, "de_gsd-ud-dev.conllu", 1, "0" * 64, None)
    assert raw.url() == (f"https://raw.githubusercontent.com/UniversalDependencies/UD_German-GSD/{COMMIT}/"
                         "de_gsd-ud-dev.conllu")
    arc = Source("archive", "propbank", "propbank-frames", COMMIT, f"{COMMIT}.tar.gz", None, "0" * 64, None)
    assert arc.url() == f"https://github.com/propbank/propbank-frames/archive/{COMMIT}.tar.gz"
    assert arc.url("http://h:1/") == f"http://h:1/archive/propbank/propbank-frames/{COMMIT}.tar.gz"
