"""One writer per study folder: ``<study_dir>/.lock`` holding the writer's host and pid.

``study run`` and a standalone ``study train-run`` take it; a ``train-run`` that ``study run --launch``
started runs under its parent's lock (``$STUDY_LOCK_HELD`` names the holder). A lock whose process is
gone is taken over, and the taker says so.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from study.infra.errors import StudyError

#: set by ``study run`` for the processes it launches: the ``host pid`` of the lock it holds
LOCK_ENV = "STUDY_LOCK_HELD"


class StudyLock:
    """``<study_dir>/.lock`` holding host and pid; a lock whose process is gone is taken over, and said so."""

    NAME = ".lock"

    def __init__(self, study_dir: Path, log=print) -> None:
        self.path = Path(study_dir) / self.NAME
        self.log = log

    def __enter__(self) -> StudyLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = f"{socket.gethostname()} {os.getpid()}"
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if self._stale():
                    holder = self.holder()
                    self.path.unlink(missing_ok=True)
                    self.log(f"took over the lock of an earlier `study run` that is gone (host/pid {holder}); "
                             "its finished runs are kept and the run it was in resumes")
                    continue
                raise StudyError(f"{self.path.parent}: another `study run` is writing this study (host/pid "
                                 f"{self.holder()}); wait for it, or delete {self.path} if that process is gone"
                                 ) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(me + "\n")
            return self

    def holder(self) -> str:
        """``host pid`` of the process holding the lock ("?" when none or unreadable)."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def held_for_me(self) -> bool:
        """Whether the lock is held by the ``study run`` that launched this process (``$STUDY_LOCK_HELD``)."""
        return os.environ.get(LOCK_ENV) not in (None, "", "?") and os.environ.get(LOCK_ENV) == self.holder()

    def _stale(self) -> bool:
        try:
            host, pid = self.path.read_text().split()
        except (OSError, ValueError):
            return True
        if host != socket.gethostname():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)
