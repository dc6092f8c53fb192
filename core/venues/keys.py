"""Secret loading for the venues that sign with a secp256k1 key: Hyperliquid and Polymarket (D21).

The private key (the account's, or an API wallet's) comes from an environment variable or from a
key file that only its owner can read; a group- or world-readable file is refused with a message
that says how to fix it.  The key lives in a ``PrivateKey`` whose ``repr``/``str`` are redacted
and which refuses to be pickled; error messages name where a key was looked for, never what it
was.  Addresses are shown abbreviated (``0x1479…9325``).

This module never logs, prints or formats a key, and never writes one anywhere.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
# secp256k1's group order: a private key is an integer in [1, n-1]; 64 hex digits outside that
# range look like a key but cannot sign (eth_account raises a bare ValueError at start-up).
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class KeySourceError(Exception):
    """No usable key: the message says where we looked and what to do, never the key."""


class PrivateKey:
    """A secp256k1 private key that never shows itself."""

    __slots__ = ("_hex",)

    def __init__(self, text: str) -> None:
        value = text.strip()
        if not _KEY.match(value):
            # Never echo the value: a typo'd key is still most of a key.
            raise KeySourceError(
                f"the private key is not 64 hex digits (optionally 0x-prefixed); "
                f"got {len(value)} characters"
            )
        hex_key = value if value.startswith("0x") else "0x" + value
        if not 0 < int(hex_key, 16) < _CURVE_ORDER:
            raise KeySourceError(
                "the private key is 64 hex digits but not a valid secp256k1 key "
                "(zero, or not below the curve order)"
            )
        self._hex = hex_key

    def reveal(self) -> str:
        """The key as 0x-hex, for the signer only."""
        return self._hex

    def __repr__(self) -> str:
        return "PrivateKey(<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a PrivateKey cannot be pickled or copied out of the process")


def load_private_key(
    env_var: str, key_file: Path | None, environ: Mapping[str, str] | None = None
) -> PrivateKey:
    """The key from ``key_file`` (owner-only) if given, else from the ``env_var`` variable."""
    if key_file is not None:
        return _from_file(key_file)
    env = os.environ if environ is None else environ
    value = env.get(env_var, "")
    if not value.strip():
        raise KeySourceError(
            f"no private key: set the {env_var} environment variable, or name an owner-only "
            f"key file with venue.key_file in the config (chmod 600)"
        )
    try:
        return PrivateKey(value)
    except KeySourceError as exc:
        raise KeySourceError(f"{env_var}: {exc}") from None


def _from_file(path: Path) -> PrivateKey:
    try:
        info = path.stat()
    except OSError as exc:
        raise KeySourceError(f"key file {path}: cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeySourceError(f"key file {path}: not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise KeySourceError(
            f"key file {path} is readable by group or others (mode {mode:04o}); "
            f"it must be owner-only: run `chmod 600 {path}`"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise KeySourceError(f"key file {path} belongs to another user; it must be yours")
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise KeySourceError(f"key file {path}: cannot read it as text") from None
    try:
        return PrivateKey(text)
    except KeySourceError as exc:
        raise KeySourceError(f"key file {path}: {exc}") from None


def abbreviate(address: str) -> str:
    """``0x14791697260E4c9A71f18484C9f997B308e59325`` -> ``0x1479…9325``."""
    if len(address) <= 12:
        return address
    return f"{address[:6]}…{address[-4:]}"
