"""Word-level tokenisation shared by the tagging tasks (SRL, POS).

Sentences arrive as words (UD tokens); each word is tokenised on its own and located by its first
content piece (``word_index``); the heads read the word there or average its pieces up to the next
word's first piece (``srl.word_pooling``). Two facts about this tokenizer shape the code:

* A word tokenised alone often starts with a bare ``▁`` piece (86% of Chinese words): the first
  piece then carries no information. A bare leading ``▁`` is dropped when more pieces follow, so
  every word is represented by a content piece.
* The model window is finite: words whose pieces fall beyond it are marked (index -1) and counted,
  never silently dropped from scoring (they are predicted ``O`` and still count as gold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EncodedSentence:
    """Piece ids of a sentence and, for each word, the index of its representative piece (-1: cut off)."""

    input_ids: np.ndarray  # int64 [T], with <s> ... </s>
    word_index: np.ndarray  # int64 [W]
    truncated_words: int


class WordPieceEncoder:
    """Tokenise word lists with a fast tokenizer, caching piece ids per distinct word form."""

    def __init__(self, tokenizer, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        vocab = tokenizer.get_vocab()
        self.bare_id = vocab.get("▁")
        self.cls_id = tokenizer.cls_token_id
        self.sep_id = tokenizer.sep_token_id
        self._cache: dict[str, list[int]] = {}

    def word_pieces(self, words: list[str]) -> list[list[int]]:
        """Piece ids of each word (bare leading ``▁`` removed when more pieces follow)."""
        missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        if missing:
            batch = self.tokenizer(missing, add_special_tokens=False)["input_ids"]
            for word, ids in zip(missing, batch, strict=True):
                if len(ids) > 1 and ids[0] == self.bare_id:
                    ids = ids[1:]
                if not ids:  # an empty or whitespace-only form: represent it by <unk>
                    ids = [self.tokenizer.unk_token_id]
                self._cache[word] = list(ids)
        return [self._cache[w] for w in words]

    def encode(self, words: list[str]) -> EncodedSentence:
        """``<s>`` + pieces of every word + ``</s>``, cut to ``max_length`` pieces."""
        budget = self.max_length - 2
        ids: list[int] = [self.cls_id]
        index = np.full(len(words), -1, dtype=np.int64)
        truncated = 0
        for i, pieces in enumerate(self.word_pieces(words)):
            if len(ids) - 1 + len(pieces) > budget:
                truncated = len(words) - i
                break
            index[i] = len(ids)
            ids.extend(pieces)
        ids.append(self.sep_id)
        return EncodedSentence(np.asarray(ids, dtype=np.int64), index, truncated)
