"""Atomic file writing: never leave a half-written output behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file next to ``path``; rename it onto ``path`` only if the block succeeds.

    Args:
        path: Final destination. Its parent folder is created if needed.
        mode: ``"w"`` for text or ``"wb"`` for bytes.
        encoding: Text encoding (ignored in binary mode).

    Yields:
        The open temporary file. On an exception the temporary file is removed and ``path``
        is left untouched.
    """
    with atomic_path(path) as tmp, open(tmp, mode, encoding=None if "b" in mode else encoding) as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


def atomic_path(path: str | os.PathLike) -> contextlib.AbstractContextManager[Path]:
    """Give a temporary path next to ``path`` for writers that take a filename (e.g. ``torch.save``).

    The temporary file is renamed onto ``path`` when the block succeeds and removed otherwise.
    """
    return _atomic_path(Path(path))


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _default_permissions(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _default_permissions(path: str) -> None:
    """Give a temporary file the mode a plain ``open()`` would have (mkstemp makes it 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
