"""Atomic outputs: nothing half-written, ever. The one writer every module uses.

A file is written to a temporary name beside its target and renamed over it when the writer
succeeds; on any failure the temporary file is removed and an older output survives. Folders
(a generated study, a pseudonymised copy, a validated cache) are built under a temporary name and
swapped in the same way by ``atomic_dir``.

Temporary files are created with the mode a plain ``open`` would give (0666 less the process
umask): the umask is applied by the operating system at creation, so it is never read or changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = ["TEMP_PREFIX", "atomic_dir", "atomic_path", "atomic_write", "sha256_bytes", "sha256_of"]

TEMP_PREFIX = ".insats-tmp-"
"""Every temporary file or folder starts with this, so a crash leaves something recognisable."""


def _temp_name(path: Path, suffix: str) -> Path:
    return path.parent / f"{TEMP_PREFIX}{path.stem[:40]}.{secrets.token_hex(4)}{suffix}"


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a new, empty temporary file beside ``path`` (same suffix, so writers that choose a
    format by extension work); when the block succeeds it is renamed over ``path``, when it fails
    it is removed. A reader never sees a half-written output, and an old output survives a failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = _temp_name(path, path.suffix or ".tmp")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: Path | str, data: str | bytes, encoding: str = "utf-8") -> Path:
    """Write text or bytes to ``path`` atomically (see ``atomic_path``); returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return Path(path)


@contextlib.contextmanager
def atomic_dir(path: Path | str) -> Iterator[Path]:
    """Yield a new, empty temporary folder beside ``path``; when the block succeeds it replaces
    ``path`` (an existing folder is moved aside first and removed after the swap), when it fails
    it is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path, "")
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            old = _temp_name(path, ".old")
            os.replace(path, old)
            try:
                os.replace(tmp, path)
            except BaseException:
                os.replace(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sha256_of(path: Path | str) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes | str) -> str:
    """SHA-256 of bytes (text is encoded as UTF-8)."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()
