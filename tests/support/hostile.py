"""Inputs made to hurt a reader: deep nesting, a gzip bomb. Built in memory, quickly."""

from __future__ import annotations

import struct
import zlib

MIB = 1 << 20


def deep_json(depth: int) -> bytes:
    """Valid JSON, ``depth`` arrays deep."""
    return b"[" * depth + b"]" * depth


def gzip_bomb(mib: int) -> bytes:
    """A valid gzip file of about 1 KB per MiB that expands to ``mib`` MiB of zeros.

    Deflate after a full flush needs nothing before it, so one compressed MiB repeats;
    the trailer carries the right CRC and size, so ``gzip -t`` accepts the file.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(bytes(MIB), crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    final_empty_block = b"\x03\x00"
    trailer = struct.pack("<II", crc, (mib * MIB) & 0xFFFFFFFF)
    return header + block * mib + final_empty_block + trailer
