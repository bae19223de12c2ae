"""Write a manifest's utterances into tar shards (``speech prepare shard``); see :mod:`speech.data.shards`."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from speech.data.manifest import Utterance, read_manifest_lines
from speech.data.shards import FORMAT, INDEX_FILE, SHARDS_FILE, VERSION, ShardInfo
from speech.errors import SpeechError
from speech.io import has_control, safe_name

_NOT_AUDIO = {"json", "tar", "jsonl"}


@dataclass
class ShardSummary:
    """What :func:`write_shards` wrote.

    Attributes:
        folder: The shard folder.
        shards: Every shard, in order.
        sample_rate: The manifest's sample rate, or None when it mixes rates.
        source_manifest: Absolute path of the manifest.
    """

    folder: Path
    shards: list[ShardInfo] = field(default_factory=list)
    sample_rate: int | None = None
    source_manifest: str = ""

    @property
    def utterances(self) -> int:
        """Utterances in all shards."""
        return sum(s.utterances for s in self.shards)

    @property
    def duration(self) -> float:
        """Their total duration in seconds."""
        return sum(s.duration for s in self.shards)


def write_shards(
    manifest: str | os.PathLike,
    out_dir: str | os.PathLike,
    shard_size: int = 1000,
    max_shard_bytes: int | None = None,
    force: bool = False,
) -> ShardSummary:
    """Write ``shard-000000.tar``, ... plus ``shards.json`` and ``utterances.jsonl`` into ``out_dir``.

    Each utterance becomes ``<id>.<ext>`` (its audio file's bytes, unchanged) and ``<id>.json`` (its
    manifest entry less ``audio``). The shards are written into a temporary folder beside ``out_dir``
    that is renamed onto it at the end, so a failure leaves nothing half written.

    Args:
        manifest: The JSONL manifest.
        out_dir: The shard folder; it must be missing or empty, or (with ``force``) a shard folder.
        shard_size: Utterances per shard at most.
        max_shard_bytes: Also start a new shard before one would grow past this size.
        force: Replace an existing shard folder.

    Raises:
        SpeechError: One line naming the file: a bad manifest, a missing or unreadable audio file, an
            id that cannot be a tar member name, or an output folder that is in the way.
    """
    if shard_size < 1 or (max_shard_bytes is not None and max_shard_bytes < 1):
        raise SpeechError("--shard-size and --max-shard-bytes must be positive")
    out_dir = Path(out_dir)
    entries = read_manifest_lines(manifest)
    _check_out_dir(out_dir, force)
    for where, utt in entries:
        _check_entry(where, utt)
    rates = {utt.sample_rate for _, utt in entries}
    summary = ShardSummary(
        out_dir,
        sample_rate=rates.pop() if len(rates) == 1 else None,
        source_manifest=str(Path(manifest).resolve()),
    )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        _write_all(entries, tmp, shard_size, max_shard_bytes, summary)
        _replace_folder(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _check_out_dir(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise SpeechError(f"{out_dir}: cannot write the shard folder (not a folder)")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not force:
            raise SpeechError(f"{out_dir}: the shard folder is not empty (--force replaces a shard folder)")
        if not (out_dir / SHARDS_FILE).is_file():
            raise SpeechError(
                f"{out_dir}: not empty and not a shard folder (no {SHARDS_FILE}); not replacing it"
            )


def _check_entry(where: str, utt: Utterance) -> None:
    """Refuse what cannot go into a shard: ids that are not plain member names, audio without a type."""
    try:
        safe_name(utt.id, "utterance id")
    except SpeechError as e:
        raise SpeechError(f"{where}: {e}") from None
    ext = Path(utt.audio).suffix.lstrip(".").lower()
    if not ext or ext in _NOT_AUDIO or has_control(ext) or " " in ext:
        raise SpeechError(f"{where}: audio file {utt.audio!r} has no audio extension (.wav, .flac, ...)")
    if not Path(utt.audio).is_file():
        raise SpeechError(f"{where}: audio file not found: {utt.audio!r}")


def _write_all(
    entries: list[tuple[str, Utterance]],
    folder: Path,
    shard_size: int,
    max_shard_bytes: int | None,
    summary: ShardSummary,
) -> None:
    with open(folder / INDEX_FILE, "w", encoding="utf-8") as index:
        shard = None
        try:
            for where, utt in entries:
                audio = _read_audio(where, utt.audio)
                record = json.loads(utt.to_json())
                del record["audio"]
                meta = json.dumps(record, ensure_ascii=False).encode("utf-8")
                size = _member_bytes(audio) + _member_bytes(meta)
                if shard is None or shard.full(shard_size, max_shard_bytes, size):
                    if shard is not None:
                        summary.shards.append(shard.close())
                    shard = _Shard(folder, f"shard-{len(summary.shards):06d}.tar")
                shard.add(utt, Path(utt.audio).suffix.lstrip(".").lower(), audio, meta, size)
                index.write(json.dumps({"shard": shard.name, **record}, ensure_ascii=False) + "\n")
            summary.shards.append(shard.close())
        finally:
            if shard is not None:
                shard.abort()
    listing = {
        "format": FORMAT,
        "version": VERSION,
        "source_manifest": summary.source_manifest,
        "sample_rate": summary.sample_rate,
        "utterances": summary.utterances,
        "duration": summary.duration,
        "index": INDEX_FILE,
        "shards": [asdict(s) for s in summary.shards],
    }
    (folder / SHARDS_FILE).write_text(json.dumps(listing, indent=1) + "\n", encoding="utf-8")


def _member_bytes(data: bytes) -> int:
    """Bytes a member takes in a tar file: a 512-byte header and the data padded to 512 bytes."""
    return 512 + -(-len(data) // 512) * 512


class _Shard:
    """One tar file being written."""

    def __init__(self, folder: Path, name: str) -> None:
        from webdataset import TarWriter

        self.name, self.path = name, folder / name
        self.file = open(self.path, "wb")  # noqa: SIM115 (closed by close() or the caller)
        self.writer = TarWriter(self.file, encoder=False, mtime=0)
        self.count, self.duration, self.bytes = 0, 0.0, 1024  # the end-of-archive blocks

    def full(self, shard_size: int, max_bytes: int | None, size: int) -> bool:
        """Whether the next utterance (``size`` bytes in the tar) must start a new shard."""
        return self.count >= shard_size or (
            max_bytes is not None and self.count > 0 and self.bytes + size > max_bytes
        )

    def add(self, utt: Utterance, ext: str, audio: bytes, meta: bytes, size: int) -> None:
        """Write ``<id>.<ext>`` and ``<id>.json``."""
        self.writer.write({"__key__": utt.id, ext: audio, "json": meta})
        self.count, self.duration, self.bytes = (
            self.count + 1,
            self.duration + utt.duration,
            self.bytes + size,
        )

    def abort(self) -> None:
        """Close the files (after :meth:`close`, or when writing failed: the folder is then removed)."""
        if not self.file.closed:
            with contextlib.suppress(Exception):
                self.writer.close()
            self.file.close()

    def close(self) -> ShardInfo:
        """Finish the tar file; its entry for ``shards.json``."""
        self.writer.close()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        return ShardInfo(self.name, self.count, self.duration, self.path.stat().st_size)


def _read_audio(where: str, path: str) -> bytes:
    """The bytes of an audio file, after checking that libsndfile reads its header."""
    from speech.audio import info

    try:
        info(path)
        return Path(path).read_bytes()
    except SpeechError as e:
        raise SpeechError(f"{where}: {e}") from None
    except OSError as e:
        raise SpeechError(
            f"{where}: cannot read audio file {path!r} ({e.strerror or e.__class__.__name__})"
        ) from None


def _replace_folder(tmp: Path, out_dir: Path) -> None:
    """Rename the finished temporary folder onto ``out_dir`` (an empty or previous shard folder)."""
    os.chmod(tmp, 0o777 & ~_umask())
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
        os.replace(out_dir, old / "folder")
    os.replace(tmp, out_dir)
    if old is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(old)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
