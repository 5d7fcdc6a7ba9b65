"""Q4_0 dequantisation on hand-made blocks with known values."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from study.encoder.e5bin import dequantize_q4_0
from study.infra.errors import EncoderError


def make_block(scale: float, nibbles: list[int]) -> bytes:
    """Pack 32 nibbles: byte j holds value j (low nibble) and value j+16 (high nibble)."""
    assert len(nibbles) == 32
    packed = bytes((nibbles[j] & 0xF) | ((nibbles[j + 16] & 0xF) << 4) for j in range(16))
    return struct.pack("<e", scale) + packed


def test_dequantises_known_values_in_order():
    nibbles = list(range(16)) + list(range(15, -1, -1))
    out = dequantize_q4_0(make_block(0.5, nibbles), 32)
    expected = (np.array(nibbles, dtype=np.float32) - 8) * 0.5
    np.testing.assert_array_equal(out, expected)
    # value 0 is the low nibble of byte 0, value 16 the high nibble of byte 0
    assert out[0] == -4.0 and out[16] == 3.5


def test_two_blocks_use_their_own_scales():
    a = make_block(1.0, [9] * 32)  # +1 each
    b = make_block(-2.0, [0] * 32)  # (0-8)*-2 = 16
    out = dequantize_q4_0(a + b, 64)
    assert out[:32].tolist() == [1.0] * 32
    assert out[32:].tolist() == [16.0] * 32


def test_fp16_scale_is_read_as_half_precision():
    scale = np.float16(0.0123)
    out = dequantize_q4_0(make_block(float(scale), [15] * 32), 32)
    assert out[0] == pytest.approx(7 * float(scale), rel=0, abs=1e-7)


def test_rejects_wrong_byte_length():
    with pytest.raises(EncoderError, match="needs 36 bytes"):
        dequantize_q4_0(make_block(1.0, [0] * 32) + b"\x00", 64)


def test_rejects_count_not_multiple_of_block():
    with pytest.raises(EncoderError, match="multiple of 32"):
        dequantize_q4_0(b"", 31)
