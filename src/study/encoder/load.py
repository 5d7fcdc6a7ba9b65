"""Resolve and load the encoder that params name.

One interface for both scales: ``multilingual-e5-small-q4`` (the offline stand-in, rebuilt by
:mod:`study.encoder.build`), a local checkpoint folder, or a Hugging Face hub name such as
``xlm-roberta-large`` for full-scale users. Hub loading is the real ``from_pretrained`` call;
when the hub cannot be reached the error says what to do instead of a long traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from study.encoder.build import OFFLINE_ENCODER_NAME, default_output_dir, read_manifest
from study.infra.errors import EncoderError
from study.infra.hashing import sha256_file_remembered

#: Short names accepted in params, mapped to hub repositories (docs/full-scale.md).
HUB_ALIASES = {
    "xlm-roberta-large": "FacebookAI/xlm-roberta-large",
    "xlm-roberta-base": "FacebookAI/xlm-roberta-base",
}
KNOWN_ENCODERS = (OFFLINE_ENCODER_NAME, *HUB_ALIASES, *HUB_ALIASES.values())


@dataclass(frozen=True)
class EncoderSpec:
    """What an encoder name resolves to: a local folder or a hub repository id."""

    name: str
    source: str  # "offline-build", "local" or "hub"
    location: str  # folder path or hub id

    @property
    def is_local(self) -> bool:
        return self.source != "hub"


def resolve_encoder(name: str) -> EncoderSpec:
    """Map a params encoder name to where it is loaded from (does not load anything)."""
    if name == OFFLINE_ENCODER_NAME:
        return EncoderSpec(name, "offline-build", str(default_output_dir()))
    if name in HUB_ALIASES:
        return EncoderSpec(name, "hub", HUB_ALIASES[name])
    if Path(name).expanduser().is_dir():
        return EncoderSpec(name, "local", str(Path(name).expanduser().resolve()))
    if "/" in name and not name.startswith((".", "/", "~")):
        return EncoderSpec(name, "hub", name)
    raise EncoderError(
        f"unknown encoder '{name}': use one of {', '.join(KNOWN_ENCODERS)}, a hub id (owner/name) "
        "or a local checkpoint folder"
    )


def ensure_available(spec: EncoderSpec) -> Path | str:
    """Return the path or hub id to pass to ``from_pretrained``, checking local folders exist."""
    if spec.source == "hub":
        return spec.location
    path = Path(spec.location)
    if not (path / "config.json").is_file():
        if spec.source == "offline-build":
            raise EncoderError(
                f"encoder '{spec.name}' is not built yet ({path} has no config.json): run `study model build`"
            )
        raise EncoderError(f"{path}: not a Hugging Face checkpoint (no config.json)")
    verify_checkpoint(spec)
    return path


def verify_checkpoint(spec: EncoderSpec) -> dict[str, str]:
    """Check a built checkpoint's files against the sha256 its build recorded; their digests.

    A truncated or altered weights file, or a deleted tokenizer file, would otherwise load (or fail
    deep inside ``from_pretrained``) and be reported under the recorded checksum. Hashes are
    remembered while a file's stat is unchanged, so this costs nothing after the first check.
    """
    path = Path(spec.location)
    recorded = read_manifest(path).get("files", {})
    actual = {}
    for name, digest in recorded.items():
        file = path / name
        fix = "run `study model build` to rebuild it" if spec.source == "offline-build" else "restore it"
        if not file.is_file():
            raise EncoderError(f"{file}: missing from the encoder checkpoint; {fix}")
        actual[name] = sha256_file_remembered(file)
        if actual[name] != digest:
            raise EncoderError(f"{file}: does not match the checksum its build recorded (damaged or altered); {fix}")
    return actual


def _hub_error(spec: EncoderSpec, exc: Exception) -> EncoderError:
    offline = os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("TRANSFORMERS_OFFLINE") == "1"
    why = "offline mode is on (HF_HUB_OFFLINE=1)" if offline else "the Hugging Face hub could not be reached"
    return EncoderError(
        f"cannot load encoder '{spec.location}': {why} and it is not in the local Hugging Face cache. "
        "Either run once on a machine with internet access (the download is cached in ~/.cache/huggingface), "
        f"point encoder.name at a local checkpoint folder, or use '{OFFLINE_ENCODER_NAME}' "
        f"(`study model build`). Detail: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    )


def load_tokenizer(name: str):
    """Load the tokenizer of encoder ``name`` (fast, with word alignment); local ones via the tokenizer cache."""
    from transformers import AutoTokenizer

    from study.encoder.tokenizer_cache import cached_tokenizer

    spec = resolve_encoder(name)
    where = ensure_available(spec)
    try:
        if spec.is_local:
            return cached_tokenizer(Path(where), lambda: AutoTokenizer.from_pretrained(str(where)))
        return AutoTokenizer.from_pretrained(str(where))
    except OSError as exc:
        if spec.source == "hub":
            raise _hub_error(spec, exc) from exc
        raise EncoderError(f"{where}: tokenizer files are missing or corrupt ({exc}); rebuild it") from exc


def load_encoder(name: str, attention_dropout: float | None = None):
    """Load the bare encoder (no pooler, no head) of ``name`` as a ``transformers`` model.

    ``attention_dropout`` replaces the checkpoint's dropout on attention probabilities (None keeps it).
    """
    import transformers
    from transformers import AutoConfig, AutoModel

    spec = resolve_encoder(name)
    where = ensure_available(spec)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()  # a per-tensor bar on every load clutters reports
    try:
        config = AutoConfig.from_pretrained(str(where))
        if attention_dropout is not None:
            config.attention_probs_dropout_prob = attention_dropout
        kwargs = {"add_pooling_layer": False} if config.model_type in {"bert", "xlm-roberta", "roberta"} else {}
        return AutoModel.from_pretrained(str(where), config=config, **kwargs)
    except OSError as exc:
        if spec.source == "hub":
            raise _hub_error(spec, exc) from exc
        raise EncoderError(f"{where}: checkpoint is missing files or corrupt ({exc}); rebuild it") from exc


def encoder_fingerprint(name: str) -> dict:
    """What identifies the encoder in provenance: name, source and (offline) weights sha256."""
    spec = resolve_encoder(name)
    info = {"name": spec.name, "source": spec.source, "location": spec.location}
    if spec.is_local:
        ensure_available(spec)  # not built or damaged: one line, never a record without the weights' checksum
        info["weights_sha256"] = verify_checkpoint(spec).get("model.safetensors")  # the file as it is
    return info
