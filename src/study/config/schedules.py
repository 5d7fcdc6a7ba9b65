"""Parse schedule strings from params: the study's independent variable.

Forms (docs/design.md)::

    none                 pretrained encoder -> SRL
    single:T             encoder -> T -> SRL (STILTs)
    seq:A>B>...          encoder -> A -> B -> ... -> SRL (encoder carried, heads never)
    joint:A+B+...        one multi-task run over A, B, ... -> SRL
    joint+srl:A+B+...    one multi-task run over A, B, ... and English SRL -> SRL
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from study.tasks.registry import task_names

KINDS = ("none", "single", "seq", "joint", "joint+srl")
FORMS = "none, single:T, seq:A>B[>C...], joint:A+B[+C...], joint+srl:A[+B...]"


class ScheduleError(ValueError):
    """A schedule string that does not parse; the message says which part is wrong."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: its kind and the ordered intermediate tasks."""

    kind: str
    tasks: tuple[str, ...]

    @property
    def text(self) -> str:
        if self.kind == "none":
            return "none"
        sep = ">" if self.kind == "seq" else "+"
        return f"{self.kind}:{sep.join(self.tasks)}"

    @property
    def slug(self) -> str:
        """File-system friendly name: ``seq:mnli>squad_v1`` -> ``seq-mnli-squad_v1``."""
        return re.sub(r"[^A-Za-z0-9_]+", "-", self.text).strip("-")

    @property
    def stages(self) -> tuple[tuple[str, ...], ...]:
        """The intermediate stages in order: one task each (seq), or one mixture (joint)."""
        if self.kind == "none":
            return ()
        if self.kind in {"single", "seq"}:
            return tuple((t,) for t in self.tasks)
        return (self.tasks,)


def parse_schedule(text: str, known_tasks: tuple[str, ...] | None = None) -> Schedule:
    """Parse ``text``; raise :class:`ScheduleError` naming the bad part and the allowed values."""
    known = tuple(known_tasks) if known_tasks is not None else task_names()
    raw = text.strip()
    if raw == "none":
        return Schedule("none", ())
    kind, sep, body = raw.partition(":")
    if not sep or kind not in KINDS or kind == "none":
        raise ScheduleError(f"'{text}' is not a schedule; allowed forms: {FORMS}")
    if kind == "seq":
        tasks = tuple(body.split(">"))
        if len(tasks) < 2:
            raise ScheduleError(f"'{text}': seq needs at least two tasks (A>B); use single:{body} for one")
    elif kind == "single":
        tasks = (body,)
        if any(c in body for c in "+>"):
            raise ScheduleError(f"'{text}': single takes one task; use seq:A>B or joint:A+B for several")
    else:
        tasks = tuple(body.split("+"))
        if kind == "joint" and len(tasks) < 2:
            raise ScheduleError(f"'{text}': joint needs at least two tasks (A+B); use single:{body} for one")
    for task in tasks:
        if task not in known:
            raise ScheduleError(f"'{text}': unknown task '{task}'; allowed tasks: {', '.join(known)}")
    if len(set(tasks)) != len(tasks):
        raise ScheduleError(f"'{text}': a task appears twice")
    return Schedule(kind, tasks)
