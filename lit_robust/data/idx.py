"""Reading and writing IDX files, the format of MNIST and Fashion-MNIST (plain or gzip-compressed).

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions, then each
dimension as a 4-byte integer) followed by the array. Only unsigned bytes (type code 0x08) occur in the
MNIST family, so that is the only type handled here.
"""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path

import torch
from torch import Tensor

UBYTE = 0x08


def _open(path: Path, mode: str):
    # mtime=0 makes written .gz files byte-for-byte reproducible.
    return gzip.GzipFile(path, mode, mtime=0) if path.suffix == ".gz" else open(path, mode)


def read_idx(path: str | Path) -> Tensor:
    """Reads an unsigned-byte IDX file (``.gz`` is decompressed) into a uint8 tensor of the stored shape.

    Raises:
        ValueError: if the file is not an unsigned-byte IDX file or its size does not match its header.
    """
    path = Path(path)
    with _open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != UBYTE:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number {data[:4].hex()}).")
    ndim = data[3]
    header_size = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    expected = header_size + math.prod(shape)
    if len(data) != expected:
        raise ValueError(f"{path} holds {len(data)} bytes but its header {shape} needs {expected}.")
    return torch.frombuffer(bytearray(data[header_size:]), dtype=torch.uint8).reshape(shape)


def write_idx(path: str | Path, array: Tensor) -> None:
    """Writes a uint8 tensor as an IDX file, gzip-compressed when ``path`` ends with ``.gz``."""
    if array.dtype != torch.uint8:
        raise ValueError(f"write_idx needs a uint8 tensor, got {array.dtype}.")
    header = struct.pack(f">BBBB{array.dim()}I", 0, 0, UBYTE, array.dim(), *array.shape)
    with _open(Path(path), "wb") as f:
        f.write(header + array.contiguous().numpy().tobytes())
