"""Long-form results as text: plain text, JSON, SRT and WebVTT subtitles.

A cue holds at most two lines of about :data:`LINE_WIDTH` characters. A segment whose text is
longer is split into several cues at word boundaries when it has word timestamps (each cue
then spans its own words); without them it stays one cue, its text balanced over two lines.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from typing import NamedTuple

from speech.inference.longform import Segment

FORMATS = ("txt", "json", "srt", "vtt")
"""Output formats, also the file extensions."""
LINE_WIDTH = 42
"""Characters per subtitle line (the usual broadcast limit)."""
MAX_LINES = 2
"""Lines per cue."""


class Cue(NamedTuple):
    """One subtitle: start and end in seconds, and its lines."""

    start: float
    end: float
    lines: list[str]


def timestamp(seconds: float, separator: str = ",") -> str:
    """``HH:MM:SS,mmm`` (SRT) or, with ``separator="."``, ``HH:MM:SS.mmm`` (WebVTT)."""
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def wrap(text: str, width: int = LINE_WIDTH) -> list[str]:
    """``text`` on lines of at most ``width`` characters; two balanced lines when it needs more than two."""
    text = " ".join(text.split())
    lines = textwrap.wrap(text, width, break_long_words=False) or [""]
    if len(lines) <= MAX_LINES:
        return lines
    half = math.ceil(len(text) / MAX_LINES)
    for w in range(half, len(text) + 1):  # the narrowest width that gives two lines
        lines = textwrap.wrap(text, w, break_long_words=False)
        if len(lines) <= MAX_LINES:
            return lines
    return [text]


def cues(segments: Sequence[Segment], width: int = LINE_WIDTH) -> list[Cue]:
    """Subtitle cues of ``segments`` (empty texts left out), in time order."""
    out = []
    for seg in segments:
        text = " ".join(seg.text.split())
        if not text:
            continue
        if len(textwrap.wrap(text, width, break_long_words=False)) <= MAX_LINES or not seg.words:
            out.append(Cue(seg.start, seg.end, wrap(text, width)))
            continue
        out += _word_cues(seg, width)
    return out


def _word_cues(seg: Segment, width: int) -> list[Cue]:
    """Split a segment by its words into cues that each fit two lines."""
    groups: list[list] = [[]]
    for word in seg.words:
        trial = " ".join(w.text for w in [*groups[-1], word])
        if groups[-1] and len(textwrap.wrap(trial, width, break_long_words=False)) > MAX_LINES:
            groups.append([])
        groups[-1].append(word)
    out = []
    for i, group in enumerate(groups):
        start = seg.start if i == 0 else group[0].start
        end = seg.end if i == len(groups) - 1 else groups[i + 1][0].start
        out.append(Cue(start, max(end, start), wrap(" ".join(w.text for w in group), width)))
    return out


def to_srt(segments: Sequence[Segment]) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line after each."""
    blocks = [
        f"{i}\n{timestamp(c.start)} --> {timestamp(c.end)}\n" + "\n".join(c.lines) + "\n"
        for i, c in enumerate(cues(segments), 1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: Sequence[Segment]) -> str:
    """WebVTT: the ``WEBVTT`` header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` cues."""
    blocks = [
        f"{timestamp(c.start, '.')} --> {timestamp(c.end, '.')}\n" + "\n".join(c.lines) + "\n"
        for c in cues(segments)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def to_txt(segments: Sequence[Segment]) -> str:
    """One line per segment with text."""
    return "".join(f"{' '.join(s.text.split())}\n" for s in segments if s.text.strip())


def document(segments: Sequence[Segment], name: str, field: str = "text") -> dict:
    """The JSON record of one input: ``file``, the joined ``field`` text, and its ``segments``."""
    return {
        "file": name,
        field: joined(segments),
        "segments": [s.to_dict() for s in segments],
    }


def to_json(segments: Sequence[Segment], name: str, field: str = "text", indent: int | None = 2) -> str:
    """:func:`document` as JSON text (one line with ``indent=None``)."""
    return json.dumps(document(segments, name, field), ensure_ascii=False, indent=indent) + "\n"


def joined(segments: Sequence[Segment]) -> str:
    """Every segment's text in order, on one line."""
    return " ".join(" ".join(s.text.split()) for s in segments if s.text.strip())


def render(segments: Sequence[Segment], fmt: str, name: str, field: str = "text") -> str:
    """The file contents of ``segments`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return to_json(segments, name, field)
    return {"txt": to_txt, "srt": to_srt, "vtt": to_vtt}[fmt](segments)


__all__ = [
    "FORMATS",
    "Cue",
    "cues",
    "document",
    "joined",
    "render",
    "timestamp",
    "to_srt",
    "to_txt",
    "to_vtt",
    "wrap",
]
