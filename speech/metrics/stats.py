"""Decoding and synthesis statistics files (``hyp.stats.json``, ``synth.stats.json``), read strictly.

These small JSON objects are written by ``speech transcribe|translate --output`` and
``speech synthesize --manifest`` and read back by ``speech score``. Every key is optional (an
older or partial file scores with ``-`` in its place), but a key that is present must have its
documented type, so a corrupt or hand-edited file is one line naming it, never a traceback.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from speech.errors import SpeechError

NUMBER = "number"
COUNT = "count"
DECODE_STATS = {
    "utterances": COUNT,
    "audio_seconds": NUMBER,
    "decode_seconds": NUMBER,
    "rtf": NUMBER,
    "beam": COUNT,
    "threads": COUNT,
}
"""Keys of ``hyp.stats.json`` and their kinds."""
SYNTH_STATS = {
    "utterances": COUNT,
    "audio_seconds": NUMBER,
    "synthesis_seconds": NUMBER,
    "rtf": NUMBER,
    "stop_rate": NUMBER,
    "focus_rate": NUMBER,
    "diagonality": NUMBER,
    "monotonicity": NUMBER,
    "griffin_lim_iters": COUNT,
    "threads": COUNT,
}
"""Keys of ``synth.stats.json`` and their kinds (``griffin_lim_iters`` may be null)."""


def read_stats(path: str | os.PathLike, kinds: dict[str, str]) -> dict[str, float | int]:
    """The statistics in ``path`` ({} when there is no such file), checked against ``kinds``.

    Args:
        path: The JSON file.
        kinds: ``{key: "number" | "count"}``; a number is finite (NaN, infinities rejected), a
            count a non-negative integer. ``null`` values and keys not in ``kinds`` are dropped.

    Returns:
        The known keys that have a value.

    Raises:
        SpeechError: ``path: problem`` for an unreadable file, invalid JSON (with its line), a
            value that is not a JSON object, or a known key of the wrong type.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SpeechError(f"{path}:{e.lineno}: not a statistics file (invalid JSON: {e.msg})") from None
    except UnicodeDecodeError:
        raise SpeechError(f"{path}: not a statistics file (not UTF-8 text)") from None
    except (ValueError, RecursionError) as e:
        raise SpeechError(f"{path}: not a statistics file ({e.__class__.__name__})") from None
    except OSError as e:
        raise SpeechError(f"{path}: cannot read ({e.strerror or e.__class__.__name__})") from None
    if not isinstance(record, dict):
        raise SpeechError(f"{path}: expected a JSON object of statistics, got {type(record).__name__}")
    stats: dict[str, float | int] = {}
    for key, kind in kinds.items():
        value = record.get(key)
        if value is None:
            continue
        stats[key] = _checked(value, kind, f"{path}: '{key}'")
    return stats


def _checked(value: object, kind: str, where: str) -> float | int:
    """``value`` as a finite float (``number``) or a non-negative int (``count``)."""
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float range
            number = None
    if number is None or not math.isfinite(number):
        raise SpeechError(f"{where} must be a finite number, got {value!r:.40}")
    if kind == COUNT:
        if not number.is_integer() or number < 0:
            raise SpeechError(f"{where} must be a non-negative integer, got {value!r:.40}")
        return int(number)
    return number
