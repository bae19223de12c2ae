"""JSON Lines manifests: one utterance a line, the format every data_prep script writes.

Fields: ``id`` (unique str), ``audio`` (path, relative to the manifest's folder or absolute),
``duration`` (seconds), ``sample_rate`` (Hz), ``text`` (source-language transcript), and where
they apply ``translation``, ``speaker``, ``lang``, ``target_lang``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from speech.errors import ManifestError
from speech.io import atomic_write, has_control

_REQUIRED = {"id": str, "audio": str, "duration": (int, float), "sample_rate": int, "text": str}
_OPTIONAL = {"translation": str, "speaker": str, "lang": str, "target_lang": str}


@dataclass(frozen=True)
class Utterance:
    """One manifest entry.

    Attributes:
        id: Unique utterance id.
        audio: Path to the audio file; absolute after :func:`read_manifest` resolves it.
        duration: Duration in seconds.
        sample_rate: Sample rate of the file in Hz.
        text: Transcript in the source language.
        translation: Target-language text, for speech translation.
        speaker: Speaker (or voice) id.
        lang: Source language code, e.g. ``"en"``.
        target_lang: Target language code, e.g. ``"fr"``.
    """

    id: str
    audio: str
    duration: float
    sample_rate: int
    text: str
    translation: str | None = None
    speaker: str | None = None
    lang: str | None = None
    target_lang: str | None = None

    def to_json(self, relative_to: str | os.PathLike | None = None) -> str:
        """One JSON line (no newline); ``audio`` is made relative to ``relative_to`` when below it."""
        record = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        if relative_to is not None:
            audio, base = Path(self.audio), Path(relative_to).resolve()
            if audio.is_absolute() and audio.resolve().is_relative_to(base):
                record["audio"] = audio.resolve().relative_to(base).as_posix()
        return json.dumps(record, ensure_ascii=False)


def json_object(text: str, where: str) -> dict:
    """One JSON object from ``text``; anything else is a one-line ``ManifestError`` prefixed ``where``."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as e:
        raise ManifestError(f"{where}: invalid JSON ({e.msg})") from None
    if not isinstance(record, dict):
        raise ManifestError(f"{where}: expected a JSON object, got {type(record).__name__}")
    return record


def parse_line(line: str, where: str, base: Path) -> Utterance:
    """Parse and validate one manifest line.

    Args:
        line: The JSON text.
        where: ``file:line`` used as the error prefix.
        base: Folder relative audio paths are resolved against.

    Raises:
        ManifestError: ``where: problem`` for invalid JSON, a missing or mistyped field,
            an unknown field, or a non-positive duration or sample rate.
    """
    return parse_record(json_object(line, where), where, base)


def parse_record(record: dict, where: str, base: Path) -> Utterance:
    """Validate one manifest entry already read from JSON (see :func:`parse_line`); ``record`` is changed."""
    for key, kind in _REQUIRED.items():
        if key not in record:
            raise ManifestError(f"{where}: missing field '{key}'")
        if not isinstance(record[key], kind) or isinstance(record[key], bool):
            raise ManifestError(f"{where}: field '{key}' has the wrong type ({type(record[key]).__name__})")
    for key, value in record.items():
        if key in _OPTIONAL:
            if value is not None and not isinstance(value, str):
                raise ManifestError(f"{where}: field '{key}' must be a string")
        elif key not in _REQUIRED:
            raise ManifestError(f"{where}: unknown field '{key}'")
    if not record["id"]:
        raise ManifestError(f"{where}: empty 'id'")
    if not record["audio"]:
        raise ManifestError(f"{where}: empty 'audio'")
    if has_control(record["audio"]):
        raise ManifestError(f"{where}: 'audio' holds a control character or line break: {record['audio']!r}")
    if not math.isfinite(record["duration"]) or record["duration"] <= 0:
        raise ManifestError(f"{where}: 'duration' must be a positive number, got {record['duration']}")
    if record["sample_rate"] <= 0:
        raise ManifestError(f"{where}: 'sample_rate' must be positive, got {record['sample_rate']}")
    audio = Path(record["audio"])
    record["audio"] = os.path.normpath(audio if audio.is_absolute() else base / audio)
    record["duration"] = float(record["duration"])
    return Utterance(**record)


def read_manifest(path: str | os.PathLike, check_audio: bool = False) -> list[Utterance]:
    """Read and validate a manifest.

    Args:
        path: The ``.jsonl`` file.
        check_audio: Also check that every audio file exists.

    Returns:
        The utterances in file order, with absolute ``audio`` paths.

    Raises:
        ManifestError: ``file:line: problem`` for the first bad line, a duplicate id, a missing
            audio file (with ``check_audio``), or an unreadable or empty manifest.
    """
    return [utt for _, utt in read_manifest_lines(path, check_audio)]


def read_manifest_lines(path: str | os.PathLike, check_audio: bool = False) -> list[tuple[str, Utterance]]:
    """:func:`read_manifest`, with each utterance's ``file:line`` (for messages about one line).

    Lines end at a newline only (JSON Lines): a U+2028 inside a JSON string is text, not a line break.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such manifest") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path}: cannot read manifest ({e.__class__.__name__})") from None
    base = path.resolve().parent
    utterances: list[tuple[str, Utterance]] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        utt = parse_line(line, where, base)
        if utt.id in seen:
            raise ManifestError(f"{where}: duplicate id {utt.id!r} (first on line {seen[utt.id]})")
        if check_audio and not Path(utt.audio).is_file():
            raise ManifestError(f"{where}: audio file not found: {utt.audio!r}")
        seen[utt.id] = number
        utterances.append((where, utt))
    if not utterances:
        raise ManifestError(f"{path}: manifest is empty")
    return utterances


def write_manifest(utterances: Iterable[Utterance], path: str | os.PathLike) -> None:
    """Write a manifest atomically; audio paths below its folder are stored relative to it."""
    path = Path(path)
    base = path.parent.resolve() if path.parent != Path("") else Path.cwd()
    with atomic_write(path) as f:
        for utt in utterances:
            f.write(utt.to_json(relative_to=base) + "\n")
