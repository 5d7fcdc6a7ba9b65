"""Save a trained SRL model with a run, and load it back to score any CoNLL-U Plus file.

Only trainable weights are stored (encoder minus its frozen word embeddings, plus the head), next to
a JSON description (labels, formulation, scope, encoder). ``study srl score`` uses this.
"""

from __future__ import annotations

import json
from pathlib import Path

from study.infra.atomic import atomic_dir
from study.infra.errors import StudyError
from study.target.srl.model import SrlModel

WEIGHTS = "srl_model.safetensors"
META = "srl_model.json"


def save_srl_model(srl: SrlModel, directory: Path, encoder_name: str, freeze_word_embeddings: bool) -> Path:
    from safetensors.torch import save_file

    state = {n: p.detach().contiguous() for n, p in srl.model.named_parameters() if p.requires_grad}
    meta = {"encoder": encoder_name, "freeze_word_embeddings": freeze_word_embeddings, "labels": srl.labels,
            "formulation": srl.formulation, "scope": srl.scope, "max_length": srl.wordpieces.max_length,
            "eval_batch_size": srl.eval_batch_size, "encoding": srl.encoding,
            "word_pooling": srl.model.head.pooling, "mixed_precision": srl.precision}
    with atomic_dir(Path(directory)) as tmp:
        save_file(state, str(tmp / WEIGHTS))
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n")
    return Path(directory)


def load_srl_model(directory: Path) -> SrlModel:
    from safetensors.torch import load_file

    from study.encoder.load import load_tokenizer
    from study.training.engine import load_trainable_state
    from study.training.heads import srl_head
    from study.training.models import EncoderWithHead, fresh_encoder
    from study.training.wordpieces import WordPieceEncoder

    directory = Path(directory)
    if not (directory / META).is_file() or not (directory / WEIGHTS).is_file():
        raise StudyError(f"{directory}: incomplete saved SRL model (needs {META} and {WEIGHTS}); train the run again")
    meta = json.loads((directory / META).read_text())
    encoder = fresh_encoder(meta["encoder"], meta["freeze_word_embeddings"])
    encoding = meta.get("encoding", "per_predicate")
    pooling = meta.get("word_pooling", "first")  # models saved before the key existed read the first piece
    model = EncoderWithHead(encoder, srl_head(encoder.config.hidden_size, len(meta["labels"]), encoding, pooling))
    load_trainable_state(model, load_file(str(directory / WEIGHTS)))
    model.eval()
    tokenizer = load_tokenizer(meta["encoder"])
    # models saved before the key existed are scored in fp32, as `srl score` always did with them
    return SrlModel(model, meta["labels"], WordPieceEncoder(tokenizer, meta["max_length"]), meta["formulation"],
                    meta["scope"], tokenizer.pad_token_id, meta["eval_batch_size"], encoding,
                    meta.get("mixed_precision", "no"))
