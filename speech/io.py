"""Atomic file writing: never leave a half-written output behind."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import unicodedata
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


# Data that becomes a path -----------------------------------------------------------------------
_MAX_NAME_BYTES = 200  # leaves room for a suffix and the atomic writer's temporary prefix
STDIN = "-"  # a file argument meaning standard input (or output)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (C0, DEL, C1) or a Unicode line or paragraph break."""
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def safe_name(name: str, what: str = "name") -> str:
    """Check that ``name`` (e.g. an utterance id) can be one file name inside a folder.

    Rejected: empty names, ``.`` and ``..``, path separators, NUL and other control
    characters, and names too long for a file system.

    Raises:
        SpeechError: ``what 'NAME' cannot be a file name (reason)``.
    """
    from speech.errors import SpeechError

    reason = None
    if not isinstance(name, str) or not name:
        reason = "it is empty"
    elif name in (".", ".."):
        reason = "it names a folder"
    elif "/" in name or "\\" in name:
        reason = "it holds a path separator"
    elif has_control(name):
        reason = "it holds a control character or a line break"
    elif len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        reason = f"it is longer than {_MAX_NAME_BYTES} bytes"
    if reason:
        raise SpeechError(f"{what} {name!r} cannot be a file name ({reason})")
    return name


def child_path(folder: str | os.PathLike, name: str, suffix: str = "", what: str = "name") -> Path:
    """``folder/name+suffix`` for a ``name`` taken from data, confined to ``folder``.

    Raises:
        SpeechError: ``name`` is not a plain file name (see :func:`safe_name`).
    """
    from speech.errors import SpeechError

    folder = Path(folder)
    path = folder / (safe_name(name, what) + suffix)
    if os.path.commonpath([os.path.abspath(folder), os.path.abspath(path)]) != os.path.abspath(folder):
        raise SpeechError(f"{what} {name!r} would write outside {folder}")
    return path


def check_unique(names: list[str], what: str = "id", where: str = "input") -> None:
    """Refuse duplicate names up front when each one becomes its own output file.

    Raises:
        SpeechError: ``where: what 'X' appears more than once``.
    """
    from speech.errors import SpeechError

    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SpeechError(f"{where}: {what} {name!r} appears more than once (each names an output file)")
        seen.add(name)


# Outputs checked before the work starts -----------------------------------------------------------
def check_output_file(
    path: str | os.PathLike, what: str = "output", inputs: tuple[str | os.PathLike | None, ...] = ()
) -> Path:
    """Make sure a file can be written at ``path`` before any work is done.

    The parent folder is created when missing. A test file is created and removed there, which
    is the only check that also holds for read-only file systems and for root.

    Args:
        path: The output file.
        what: What it is, for the message.
        inputs: Files the same command reads (None entries and ``-`` are ignored): the output
            must not be one of them, or the user's input would be replaced.

    Raises:
        SpeechError: One line naming ``path`` and why it cannot be written.
    """
    from speech.errors import SpeechError

    path = Path(path)
    for source in inputs:
        if source is not None and str(source) != STDIN and same_file(path, source):
            _refuse(path, what, f"it is the input {source}; choose another name")
    if path.is_dir():
        _refuse(path, what, "is a folder")
    if path.exists() and not os.access(path, os.W_OK):
        _refuse(path, what, "is not writable")
    for parent in path.parents:  # the first existing ancestor must be a folder
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                _refuse(path, what, f"{parent} is not a folder")
            break
    try:
        check_output_dir(path.parent, f"folder of the {what}")
    except SpeechError as e:
        raise SpeechError(f"{path}: cannot write the {what} ({str(e).rsplit('(', 1)[-1]}") from None
    return path


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (links and ``..`` resolved; either may not exist yet)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Create folder ``path`` if needed and make sure files can be written in it.

    Raises:
        SpeechError: One line naming ``path`` and why no file can be written there.
    """
    path = Path(path)
    for parent in [path, *path.parents]:  # the first existing ancestor must be a folder
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                _refuse(path, what, f"{parent} is not a folder" if parent != path else "is not a folder")
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".speech-write-test.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        _refuse(path, what, e.strerror or e.__class__.__name__)
    return path


def _refuse(path: Path, what: str, reason: str) -> None:
    from speech.errors import SpeechError

    raise SpeechError(f"{path}: cannot write the {what} ({reason})")


# Inputs that may be standard input ---------------------------------------------------------------


def input_name(path: str | os.PathLike) -> str:
    """The name of an input in messages: ``<stdin>`` for ``-``."""
    return "<stdin>" if str(path) == STDIN else str(path)


def read_input(path: str | os.PathLike) -> tuple[bytes, str]:
    """The bytes of ``path`` (standard input for ``-``) and the name to use in messages.

    Raises:
        SpeechError: One line naming the file: missing, a folder, or unreadable.
    """
    from speech.errors import SpeechError

    if str(path) == STDIN:
        return sys.stdin.buffer.read(), input_name(path)
    path = Path(path)
    try:
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise SpeechError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SpeechError(f"{path}: is a directory") from None
    except OSError as e:
        raise SpeechError(f"{path}: cannot read ({e.strerror or e.__class__.__name__})") from None
