"""Example types shared by the bundle and hub loaders: a loader returns the same type either way."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PairExample:
    """Sentence(-pair) classification (NLI, paraphrase, sentiment)."""

    text_a: str
    text_b: str | None
    label: int
    group: str  # what must not straddle train/dev (the premise for NLI)


@dataclass(frozen=True)
class ChoiceExample:
    """Multiple choice: a context (and question) with n candidate continuations/answers."""

    context: str
    question: str
    choices: tuple[str, ...]
    label: int
    group: str


@dataclass(frozen=True)
class QaExample:
    """Extractive QA; ``answer_start`` is a character offset into ``context`` (-1: unanswerable)."""

    question: str
    context: str
    answer_text: str
    answer_start: int
    group: str  # the article title
    qid: str = ""

    @property
    def answerable(self) -> bool:
        return self.answer_start >= 0


@dataclass
class LoadReport:
    """Rows read and rows set aside, by reason: bad rows are counted, never silently dropped."""

    task: str
    source: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    split_origin: str = ""

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


#: What a row converter returns.
Example = PairExample | ChoiceExample | QaExample
