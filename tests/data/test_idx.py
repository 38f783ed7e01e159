"""The IDX reader and writer shared by MNIST, Fashion-MNIST and the MNIST sample tool."""

from __future__ import annotations

import gzip
import struct

import pytest
import torch

from lit_robust.data.idx import read_idx, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_parses_hand_written_bytes(tmp_path, suffix):
    values = bytes(range(2 * 3 * 4))
    data = struct.pack(">BBBBIII", 0, 0, 0x08, 3, 2, 3, 4) + values
    path = tmp_path / f"images-idx3-ubyte{suffix}"
    path.write_bytes(gzip.compress(data) if suffix else data)
    array = read_idx(path)
    assert array.dtype == torch.uint8
    assert array.shape == (2, 3, 4)
    assert array[1, 2, 3] == 23
    assert array.flatten().tolist() == list(range(24))


@pytest.mark.parametrize("name", ["labels-idx1-ubyte", "images-idx3-ubyte.gz"])
@pytest.mark.parametrize("shape", [(7,), (5, 4, 3)])
def test_write_then_read_round_trips(tmp_path, name, shape):
    array = torch.randint(0, 256, shape, dtype=torch.uint8)
    write_idx(tmp_path / name, array)
    assert torch.equal(read_idx(tmp_path / name), array)


def test_written_gzip_is_reproducible(tmp_path):
    array = torch.arange(100, dtype=torch.uint8)
    path = tmp_path / "labels.gz"
    write_idx(path, array)
    data = path.read_bytes()
    assert data[4:8] == b"\x00\x00\x00\x00"  # gzip's mtime field: no timestamp, same bytes every time
    assert gzip.decompress(data)[:4] == b"\x00\x00\x08\x01"


def test_read_idx_rejects_other_types_and_truncated_files(tmp_path):
    float_file = tmp_path / "floats"
    float_file.write_bytes(struct.pack(">BBBBI", 0, 0, 0x0D, 1, 1) + b"\x00" * 4)
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        read_idx(float_file)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(struct.pack(">BBBBI", 0, 0, 0x08, 1, 10) + b"\x00" * 9)
    with pytest.raises(ValueError, match="needs 18"):
        read_idx(truncated)


def test_write_idx_needs_uint8(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_idx(tmp_path / "x", torch.zeros(3, dtype=torch.int64))
