"""Live progress of the work in flight: which phase, how far, how fast.

Training and scoring run inside notebook kernels (or ``study train-run`` processes, or SLURM jobs), not
in the ``study run`` process the user watches. So progress travels through a small JSON file: the worker
writes it (at most once a second, atomically) when ``$STUDY_PROGRESS_FILE`` names one, and ``study run``
reads it to draw its status line. Without that variable (a notebook run by hand in JupyterLab, ``study
train-run`` in a terminal) the same calls draw a plain-text tqdm bar on stderr instead: text, not a
widget, so no ipywidgets is needed and no TqdmWarning appears; into a log file nothing is drawn.

Usage is process-global, like logging: ``live.phase("SRL training", total=400)`` then
``live.update(step)`` from the training loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from study.infra.atomic import write_text

PROGRESS_ENV = "STUDY_PROGRESS_FILE"
_WRITE_EVERY_S = 1.0
#: a gap between two updates longer than this, and than 20 units' worth, is a pause (SIGSTOP while the
#: machine runs something else, a suspended laptop), not work: it stays out of the rate, or one pause
#: would inflate the ETA for the rest of the phase. Dev evaluations are shorter and stay in.
_PAUSE_S = 300.0


@dataclass
class PhaseState:
    """What a progress file holds: the phase, its counter and its timing."""

    phase: str
    done: int
    total: int | None
    unit: str
    phase_started: float  # epoch seconds
    updated: float
    first_done: int = 0  # the counter when the phase started (a resumed training starts past 0)
    detail: str = ""  # what within the phase: the file being scored, "dev evaluation"

    @property
    def rate(self) -> float | None:
        """Units per second since the phase started (None before one unit is done)."""
        elapsed = self.updated - self.phase_started
        advanced = self.done - self.first_done
        return advanced / elapsed if advanced > 0 and elapsed > 0 else None

    @property
    def seconds_left(self) -> float | None:
        rate = self.rate
        if rate is None or self.total is None:
            return None
        return max(0.0, (self.total - self.done) / rate)


class LiveProgress:
    """The progress of this process's current phase, to a file (watched) or a text bar (by hand)."""

    def __init__(self, path: Path | None = None, bar: bool | None = None) -> None:
        self.path = path
        # a text bar where someone watches (a terminal, a notebook cell); never \r-redrawn into a log file
        watched = sys.stderr.isatty() or "ipykernel" in sys.modules
        self._bar_enabled = (path is None and watched) if bar is None else bar
        self._state: PhaseState | None = None
        self._written = 0.0
        self._bar = None

    @classmethod
    def from_environment(cls) -> LiveProgress:
        """The file named by the environment; no output at all on the other processes of a DDP job."""
        if os.environ.get("RANK", "0") != "0":
            return cls(None, bar=False)
        path = os.environ.get(PROGRESS_ENV)
        return cls(Path(path) if path else None)

    def phase(self, name: str, total: int | None = None, unit: str = "step", done: int = 0) -> None:
        """Start a phase (e.g. ``stage 1 of 2: mnli``, ``SRL training``, ``scoring``)."""
        now = time.time()
        self._state = PhaseState(name, done, total, unit, now, now, first_done=done)
        self._close_bar()
        if self._bar_enabled:
            from tqdm.std import tqdm  # the text bar: tqdm.auto would want ipywidgets in a notebook

            self._bar = tqdm(total=total, initial=done, desc=name, unit=unit, file=sys.stderr, leave=True,
                             dynamic_ncols=True, mininterval=1.0)
        self._write(force=True)

    def update(self, done: int, total: int | None = None, detail: str | None = None) -> None:
        """The phase's counter is now ``done`` (of ``total``, if it changed); ``detail`` says what within it."""
        state = self._state
        if state is None:
            return
        changed = (detail is not None and detail != state.detail) or (total is not None and total != state.total)
        now = time.time()
        if total is not None and state.total is None and done > state.first_done:
            state.first_done, state.phase_started = done, now  # rate from the first known step
        rate, gap = state.rate, now - state.updated
        if rate and gap > _PAUSE_S and gap > 20 * max(done - state.done, 1) / rate:
            state.phase_started += gap - max(done - state.done, 0) / rate
        state.done, state.updated = done, now
        if total is not None:
            state.total = total
        if detail is not None:
            state.detail = detail
        if self._bar is not None:
            if total is not None:
                self._bar.total = total
            if changed:
                self._bar.set_postfix_str(state.detail, refresh=False)
            self._bar.update(done - self._bar.n)
        self._write(force=changed or (state.total is not None and done >= state.total))

    def close(self) -> None:
        self._close_bar()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _write(self, force: bool = False) -> None:
        if self.path is None or self._state is None:
            return
        now = time.monotonic()
        if not force and now - self._written < _WRITE_EVERY_S:
            return
        self._written = now
        with contextlib.suppress(OSError):  # a courtesy: a full disk must not stop the training it reports on
            write_text(self.path, json.dumps(asdict(self._state)) + "\n")


def read_progress(path: Path) -> PhaseState | None:
    """The phase a progress file describes (None when absent or half-understood)."""
    try:
        return PhaseState(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


#: this process's progress, configured from ``$STUDY_PROGRESS_FILE`` on first use
_live: LiveProgress | None = None


def live() -> LiveProgress:
    """The process-global :class:`LiveProgress` (re-read from the environment if the variable changed)."""
    global _live
    wanted = os.environ.get(PROGRESS_ENV)
    if _live is None or str(_live.path or "") != (wanted or ""):
        if _live is not None:
            _live.close()
        _live = LiveProgress.from_environment()
    return _live
