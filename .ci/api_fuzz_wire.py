"""Wire formats the API fuzzing hooks (`.ci/api-fuzz-hooks.py`) build valid inputs in, as
pli's own code defines them: the registration proof of work (`pli_proto::pow`), MLS
messages in their RFC 9420 wire format (the server parses their clear header only), and
the WebSocket close frame the hooks look for (RFC 6455). Pure functions, no I/O.
"""

import hashlib
import secrets
import struct


def leading_zero_bits(digest):
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solve(challenge, username, difficulty):
    """The proof of work of `pli_proto::pow`."""
    prefix = b"pli-pow-v1" + struct.pack("<Q", len(challenge.encode())) + challenge.encode()
    prefix += username.encode()
    nonce = 0
    while leading_zero_bits(hashlib.sha256(prefix + struct.pack("<Q", nonce)).digest()) < difficulty:
        nonce += 1
    return nonce


def varint(n):
    """An MLS variable-length integer (RFC 9420 §2.1.2)."""
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return struct.pack(">H", 0x4000 | n)
    return struct.pack(">I", 0x80000000 | n)


def opaque(data):
    return varint(len(data)) + data


MLS10 = b"\x00\x01"
CIPHERSUITE = b"\x00\x03"


def private_message(group, epoch, content_type):
    """An `MLSMessage` holding a `PrivateMessage` (ciphertext opaque to the server)."""
    return (
        MLS10
        + b"\x00\x02"
        + opaque(group)
        + struct.pack(">QB", epoch, content_type)
        + opaque(b"")
        + opaque(secrets.token_bytes(32))
        + opaque(secrets.token_bytes(64))
    )


def welcome():
    """An `MLSMessage` holding a `Welcome` for one new member."""
    secrets_for = opaque(secrets.token_bytes(32)) + opaque(secrets.token_bytes(32)) + opaque(secrets.token_bytes(48))
    return MLS10 + b"\x00\x03" + CIPHERSUITE + opaque(secrets_for) + opaque(secrets.token_bytes(64))


APPLICATION = 1
COMMIT = 3


def close_frame_in(data):
    """Whether the server frames in `data` (unmasked, RFC 6455 §5.2) include a close frame."""
    at = 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            if at + 2 > len(data):
                return False
            (length,) = struct.unpack(">H", data[at : at + 2])
            at += 2
        elif length == 127:
            if at + 8 > len(data):
                return False
            (length,) = struct.unpack(">Q", data[at : at + 8])
            at += 8
        if opcode == 0x8:
            return True
        at += length
    return False
