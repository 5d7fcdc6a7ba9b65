"""What ``study run`` shows while runs train: phase, step / total, rate and ETA of every run in flight.

The runs write their progress files (:mod:`study.infra.live`); a thread here reads them once a second.
On a terminal one status line is redrawn in place (log lines are printed above it); in a log file
(CI, SLURM, ``nohup``) a line is printed when a run enters a new phase and every ``log_every_s``
seconds in between, so the log stays short and still says where the study is.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from study.infra.live import PhaseState, read_progress
from study.orchestration.progress import format_duration


def describe(run_id: str, state: PhaseState) -> str:
    """``none__seed1: SRL training 120/400 steps (30%), 4.1 steps/s, about 1 min left (dev evaluation)``."""
    text = f"{run_id}: {state.phase}"
    if state.total:
        unit = state.unit if state.total == 1 else f"{state.unit}s"
        text += f" {state.done}/{state.total} {unit} ({100 * state.done / state.total:.0f}%)"
    rate = state.rate
    if rate is not None:
        text += f", {rate:.3g} {state.unit}s/s" if rate >= 1 else f", {1 / rate:.3g} s/{state.unit}"
    left = state.seconds_left
    if left is not None and state.total and state.done < state.total:
        text += f", about {format_duration(left)} left"
    if state.detail:
        text += f" ({state.detail})"
    return text


class LiveView:
    """Watches the progress files of the runs in flight and shows them."""

    def __init__(self, interactive: bool | None = None, log_every_s: float = 60.0, out: TextIO | None = None,
                 grid_status: Callable[[], str] | None = None, poll_s: float = 1.0,
                 emit: Callable[[str], None] | None = None) -> None:
        self.out = out or sys.stdout
        #: where log lines go (the caller's log function; by default a line on ``out``)
        self.emit = emit or (lambda line: print(line, file=self.out, flush=True))
        # --verbose streams the notebooks' output: a status line redrawn between those lines would garble them
        self.interactive = (self.out.isatty() and os.environ.get("STUDY_VERBOSE") != "1"
                            if interactive is None else interactive)
        self.log_every_s = log_every_s
        self.grid_status = grid_status or (lambda: "")
        self.poll_s = poll_s
        self._watched: dict[str, Path] = {}
        self._last_phase: dict[str, str] = {}
        self._last_line_at: dict[str, float] = {}
        self._status_shown = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, run_id: str, path: Path) -> None:
        with self._lock:
            self._watched[run_id] = Path(path)

    def unwatch(self, run_id: str) -> None:
        with self._lock:
            self._watched.pop(run_id, None)
            self._last_phase.pop(run_id, None)
            self._last_line_at.pop(run_id, None)
            self._clear_status()

    def log(self, message: str) -> None:
        """Print a log line (above the status line on a terminal)."""
        with self._lock:
            self._clear_status()
            self.emit(message)
            self.out.flush()
            if self.interactive:
                self._draw_status()

    def poll(self) -> None:
        """Read every watched file once and show what changed."""
        with self._lock:
            if self.interactive:
                self._draw_status()
                return
            now = time.monotonic()
            for run_id, path in self._watched.items():
                state = read_progress(path)
                if state is None:
                    continue
                new_phase = self._last_phase.get(run_id) != state.phase
                if new_phase or now - self._last_line_at.get(run_id, now) >= self.log_every_s:
                    self.emit(f"  {describe(run_id, state)}")
                    self.out.flush()
                    self._last_phase[run_id] = state.phase
                    self._last_line_at[run_id] = now

    def _draw_status(self) -> None:
        parts = [describe(run_id, s) for run_id, p in self._watched.items() if (s := read_progress(p))]
        grid = self.grid_status()
        if not parts and not grid:
            return
        width = shutil.get_terminal_size((120, 20)).columns - 1
        line = " | ".join(([grid] if grid else []) + parts)
        self.out.write("\r\x1b[K" + (line if len(line) <= width else line[: width - 3] + "..."))
        self.out.flush()
        self._status_shown = True

    def _clear_status(self) -> None:
        if self._status_shown:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self._status_shown = False

    def __enter__(self) -> LiveView:
        def loop() -> None:
            while not self._stop.wait(self.poll_s):
                self.poll()

        self._thread = threading.Thread(target=loop, name="live-view", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            self._clear_status()
