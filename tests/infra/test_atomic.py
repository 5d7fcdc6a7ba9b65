"""Crash-safe writes: a failed write leaves the old file and names the file it was writing."""

from __future__ import annotations

import errno

import pytest

from study.infra.atomic import atomic_dir, atomic_path


@pytest.mark.parametrize("writer", [atomic_path, atomic_dir])
def test_a_full_disk_names_the_file_being_written_and_keeps_the_old_one(tmp_path, writer):
    target = tmp_path / "stage.pt"
    if writer is atomic_path:
        target.write_text("old\n")
    with pytest.raises(OSError) as info, writer(target):
        raise OSError(errno.ENOSPC, "No space left on device")  # what torch.save raises, with no file name
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["stage.pt"] if writer is atomic_path else [])
    if writer is atomic_path:
        assert target.read_text() == "old\n"
