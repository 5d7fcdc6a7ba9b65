"""Shared pieces of the task modules: bundle file readers and the helpers row converters use.

Every row that cannot be used (invalid UTF-8, a missing label, an answer not found in its context)
is counted in the :class:`LoadReport` under its reason, never silently dropped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from study.infra.errors import DataError
from study.tasks.examples import Example, LoadReport


class Skip(Exception):
    """A row that is set aside, with the reason recorded in the load report."""


# --------------------------------------------------------------------------- converter helpers


def label(value: Any, mapping: dict[str, int] | None, n: int) -> int:
    """A class index in [0, n) from a label string (through ``mapping``) or an int."""
    if value is None or value == "" or value == "-" or value == -1:
        raise Skip("missing label")
    if isinstance(value, str) and mapping is not None:
        if value.strip().lower() not in mapping:
            raise Skip(f"unknown label {value!r}")
        return mapping[value.strip().lower()]
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise Skip(f"unknown label {value!r}") from None
    if not 0 <= index < n:
        raise Skip(f"label out of range {index}")
    return index


def text(value: Any) -> str:
    """A non-empty stripped string."""
    if not isinstance(value, str) or not value.strip():
        raise Skip("empty text")
    return value.strip()


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


def read_csv_rows(path: Path, report: LoadReport | None = None) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_tsv(path: Path, report: LoadReport, columns: Sequence[str], header: bool) -> list[dict]:
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


def read_squad_json(path: Path, report: LoadReport | None = None) -> list[dict]:
    """The nested SQuAD JSON as flat hub-style rows."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
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
