"""SQuAD dev sets in SQuAD JSON, rebuilt from the per-article pages of the SQuAD explorer (gh-pages).

The official dev JSON files in the same tree are not used: the bundle holds this conversion, whose
``answer_start`` is recomputed as the first occurrence of the answer text.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

NOTE = ("answer_start recomputed as first occurrence of the answer text (-1 if not found); "
        "not the official offsets")


class ArticlePage(HTMLParser):
    """Title, paragraphs (``div.para-wrap`` with its ``<pre>`` context) and questions of one explorer page."""

    _ENDS: ClassVar[dict[str, str]] = {"title": "h1", "context": "pre", "question": "strong", "answer": "span"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # HTML-unescapes the text
        self.title: str | None = None
        self.paragraphs: list[dict] = []
        self._capturing: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = (attr.get("class") or "").split()
        if tag == "h1" and attr.get("id") == "title":
            self._capture("title")
        elif tag == "div" and "para-wrap" in classes:
            self.paragraphs.append({"context": None, "qas": []})
        elif tag == "pre" and self.paragraphs and self.paragraphs[-1]["context"] is None:
            self._capture("context")
        elif tag == "div" and "qa-wrap" in classes:
            self.paragraphs[-1]["qas"].append({"id": attr.get("data-id"), "question": None, "answers": [],
                                               "impossible": False})
        elif tag == "strong" and "question" in classes:
            self._capture("question")
        elif tag == "span" and "answer" in classes:
            self._capture("answer")
        elif tag == "span" and "no-answer" in classes:
            self.paragraphs[-1]["qas"][-1]["impossible"] = True

    def _capture(self, what: str) -> None:
        self._capturing, self._text = what, []

    def handle_data(self, data: str) -> None:
        if self._capturing:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        what = self._capturing
        if what is None or tag != self._ENDS[what]:
            return
        text, self._capturing = "".join(self._text), None
        if what == "title":
            self.title = text
        elif what == "context":
            self.paragraphs[-1]["context"] = text
        elif what == "question":
            self.paragraphs[-1]["qas"][-1]["question"] = text
        else:
            self.paragraphs[-1]["qas"][-1]["answers"].append(text)


def build_squad(pages_dir: Path, version: str, source: str, with_impossible: bool) -> bytes:
    """One SQuAD JSON file from a folder of article pages (sorted by name, ``index.html`` left out)."""
    articles = []
    for page_file in sorted(p for p in pages_dir.glob("*.html") if p.name != "index.html"):
        page = ArticlePage()
        page.feed(page_file.read_bytes().decode("utf-8"))
        page.close()
        paragraphs = []
        for para in page.paragraphs:
            context = para["context"]
            qas = []
            for qa in para["qas"]:
                entry = {"id": qa["id"], "question": qa["question"],
                         "answers": [{"text": t, "answer_start": context.find(t)} for t in qa["answers"]]}
                if with_impossible:
                    entry["is_impossible"] = qa["impossible"]
                qas.append(entry)
            paragraphs.append({"context": context, "qas": qas})
        articles.append({"title": page.title, "paragraphs": paragraphs})
    data = {"version": version, "source": source, "note": NOTE, "data": articles}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
