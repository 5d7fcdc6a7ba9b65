"""One loader per intermediate task, from the local bundle or from the Hugging Face hub.

Both sources go through the same row converters (``*_row`` functions), so the hub path is exercised
by the tests on local files through ``datasets.load_dataset("json", ...)``. Every row that cannot
be used (invalid UTF-8, a missing label, an answer not found in its context) is counted in the
:class:`LoadReport` under its reason.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from study.errors import DataError
from study.tasks.examples import ChoiceExample, LoadReport, PairExample, QaExample

NLI_LABELS = {"entailment": 0, "e": 0, "neutral": 1, "n": 1, "contradiction": 2, "c": 2}
RTE_LABELS = {"entailment": 0, "not_entailment": 1}

Example = PairExample | ChoiceExample | QaExample


class Skip(Exception):
    """A row that is set aside, with the reason recorded in the load report."""


# --------------------------------------------------------------------------- row converters


def _label(value: Any, mapping: dict[str, int] | None, n: int) -> int:
    if value is None or value == "" or value == "-" or value == -1:
        raise Skip("missing label")
    if isinstance(value, str) and mapping is not None:
        if value.strip().lower() not in mapping:
            raise Skip(f"unknown label {value!r}")
        return mapping[value.strip().lower()]
    try:
        label = int(value)
    except (TypeError, ValueError):
        raise Skip(f"unknown label {value!r}") from None
    if not 0 <= label < n:
        raise Skip(f"label out of range {label}")
    return label


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Skip("empty text")
    return value.strip()


def nli_row(row: dict) -> PairExample:
    """MNLI / SNLI / ANLI rows (bundle strings or hub ints; ANLI csv uses context/statement)."""
    premise = _text(row.get("premise", row.get("context")))
    hypothesis = _text(row.get("hypothesis", row.get("statement")))
    label = _label(row.get("label", row.get("gold_label")), NLI_LABELS, 3)
    return PairExample(premise, hypothesis, label, group=premise)


def rte_row(row: dict) -> PairExample:
    premise = _text(row["premise"])
    return PairExample(premise, _text(row["hypothesis"]), _label(row.get("label"), RTE_LABELS, 2), group=premise)


def qqp_row(row: dict) -> PairExample:
    q1 = _text(row.get("question1", row.get("q1")))
    return PairExample(q1, _text(row.get("question2", row.get("q2"))), _label(row.get("label"), None, 2), group=q1)


def sst2_row(row: dict) -> PairExample:
    sentence = _text(row["sentence"])
    return PairExample(sentence, None, _label(row.get("label"), None, 2), group=sentence)


def squad_row(row: dict) -> QaExample:
    """Hub-style flat row: id, title, context, question, answers {text: [...], answer_start: [...]}."""
    context, question = row["context"], _text(row["question"])
    texts, starts = row["answers"]["text"], row["answers"]["answer_start"]
    if not texts:
        return QaExample(question, context, "", -1, row.get("title", ""), row.get("id", ""))
    text, start = texts[0], int(starts[0])
    if context[start : start + len(text)] != text:
        found = context.find(text)
        if found < 0:
            raise Skip("answer not found in context")
        start = found
    return QaExample(question, context, text, start, row.get("title", ""), row.get("id", ""))


def hellaswag_row(row: dict) -> ChoiceExample:
    ctx = _text(row.get("ctx", row.get("context")))
    endings = tuple(row["endings"])
    if len(endings) != 4:
        raise Skip("not 4 endings")
    return ChoiceExample(ctx, "", endings, _label(row.get("label"), None, 4), group=ctx)


def cosmosqa_row(row: dict) -> ChoiceExample:
    ctx = _text(row["context"])
    choices = tuple(str(row[f"answer{i}"]) for i in range(4))
    return ChoiceExample(ctx, _text(row["question"]), choices, _label(row.get("label"), None, 4), group=ctx)


def csqa_row(row: dict) -> ChoiceExample:
    """Official JSONL (nested ``question``) or hub rows (flat ``question``, ``choices``)."""
    q = row["question"]
    if isinstance(q, dict):
        stem, labels, texts = q["stem"], [c["label"] for c in q["choices"]], [c["text"] for c in q["choices"]]
    else:
        stem, labels, texts = q, list(row["choices"]["label"]), list(row["choices"]["text"])
    key = row.get("answerKey")
    if key not in labels:
        raise Skip("missing label")
    return ChoiceExample("", _text(stem), tuple(texts), labels.index(key), group=row.get("id", stem))


def convert(rows: Iterable[dict], row_fn: Callable[[dict], Example], report: LoadReport) -> list[Example]:
    """Apply a row converter, counting every skipped row by reason."""
    out = []
    for row in rows:
        report.rows += 1
        try:
            out.append(row_fn(row))
        except Skip as why:
            report.skip(str(why))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.skip(f"malformed row ({type(exc).__name__})")
    report.kept += len(out)
    return out


# --------------------------------------------------------------------------- bundle readers


def read_jsonl(path: Path, report: LoadReport) -> list[dict]:
    rows = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                rows.append(json.loads(raw.decode("utf-8")))
            except UnicodeDecodeError:
                report.rows += 1
                report.skip("invalid UTF-8")
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
    return rows


def read_csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_tsv(path: Path, columns: list[str], header: bool, report: LoadReport) -> list[dict]:
    """Tab-separated rows read as bytes, so one line of invalid UTF-8 is counted, not fatal."""
    rows = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if (header and lineno == 1) or not raw.strip():
                continue
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                report.rows += 1
                report.skip("invalid UTF-8")
                continue
            cells = line.split("\t")
            if len(cells) != len(columns):
                report.rows += 1
                report.skip("wrong column count")
                continue
            rows.append(dict(zip(columns, cells, strict=True)))
    return rows


def squad_json_rows(path: Path) -> list[dict]:
    """The nested SQuAD JSON as flat hub-style rows."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                answers = [] if qa.get("is_impossible") else qa["answers"]
                rows.append({
                    "id": qa["id"], "title": article["title"], "context": para["context"], "question": qa["question"],
                    "answers": {"text": [a["text"] for a in answers],
                                "answer_start": [a["answer_start"] for a in answers]},
                })
    return rows
