"""Long-form decoding: segmentation, cutting at the quietest point, streaming, word times, subtitles."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
import torch

from speech.audio import resample
from speech.errors import AudioError, SpeechError
from speech.inference import LongFormConfig, Segment, Transcriber, Translator, Word, iter_segments
from speech.inference.longform import (
    Segmenter,
    Span,
    align_words,
    check_word_timestamps,
    decode_spans,
    read_blocks,
    split_points,
    token_words,
)
from speech.inference.s2t import S2TResult
from speech.inference.subtitles import cues, timestamp, to_json, to_srt, to_txt, to_vtt, wrap
from speech.text import CharTokenizer

RATE = 16000


def energy_vad(window: torch.Tensor) -> float:
    """A stand-in for Silero: speech probability from the window's RMS (loud = speech)."""
    return min(1.0, float(window.pow(2).mean().sqrt()) * 4)


def bursts(layout: list[tuple[float, float]], amplitude: float = 0.5) -> torch.Tensor:
    """Tone bursts at ``(start, end)`` seconds in silence, ending 1 s after the last one."""
    total = int((layout[-1][1] + 1.0) * RATE)
    t = torch.arange(total) / RATE
    wave = torch.zeros(total)
    for start, end in layout:
        a, b = int(start * RATE), int(end * RATE)
        wave[a:b] = amplitude * torch.sin(2 * torch.pi * 440 * t[a:b])
    return wave


def segment(wave: torch.Tensor, config: LongFormConfig, block: int | list[int]) -> list[Span]:
    """Feed ``wave`` in blocks of ``block`` samples (or of the listed sizes, cycled) and flush."""
    seg = Segmenter(RATE, config, energy_vad)
    spans, i, k = [], 0, 0
    sizes = block if isinstance(block, list) else [block]
    while i < wave.numel():
        n = sizes[k % len(sizes)]
        spans += seg.feed(wave[i : i + n])
        i, k = i + n, k + 1
    return spans + seg.flush()


CONFIG = LongFormConfig(speech_pad_ms=64, min_silence_ms=200, max_segment_seconds=20)
LAYOUT = [(0.5, 2.0), (3.0, 3.8), (5.0, 9.0), (10.0, 10.5)]


def test_split_points_cut_at_the_quietest_frame():
    quiet = torch.ones(90)
    quiet[20], quiet[45], quiet[55] = 0.0, 0.1, 0.3  # 20 is outside the window [30, 60]
    assert split_points(quiet, 60) == [45]
    assert split_points(quiet, 90) == []


def test_split_points_recursive_pieces_fit():
    torch.manual_seed(0)
    quiet = torch.rand(500)
    cuts = split_points(quiet, 60)
    edges = [0, *cuts, 500]
    assert all(0 < b - a <= 60 for a, b in zip(edges, edges[1:], strict=False))
    assert cuts == sorted(cuts)


def test_segments_follow_the_bursts_in_time_order():
    spans = segment(bursts(LAYOUT), CONFIG, RATE)
    assert len(spans) == len(LAYOUT)
    for span, (start, end) in zip(spans, LAYOUT, strict=True):
        assert abs(span.start / RATE - start) < 0.1 and abs(span.end / RATE - end) < 0.1
        assert span.audio.numel() == span.end - span.start
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))


def test_streaming_equals_one_pass_over_the_whole_file():
    wave = bursts(LAYOUT)
    whole = segment(wave, CONFIG, wave.numel())
    for block in (RATE // 2, [1000, 7919, 300], 512):
        streamed = segment(wave, CONFIG, block)
        assert [(s.start, s.end) for s in streamed] == [(s.start, s.end) for s in whole]
        assert all(torch.equal(a.audio, b.audio) for a, b in zip(streamed, whole, strict=True))


def test_long_speech_is_cut_at_its_quietest_point_and_the_buffer_stays_bounded():
    wave = bursts([(0.5, 60.5)])
    dips = [12.0, 29.0, 45.0]
    for d in dips:  # a quieter stretch the cut should find
        a = int(d * RATE)
        wave[a : a + 2048] *= 0.3
    config = LongFormConfig(speech_pad_ms=0, min_silence_ms=200, max_segment_seconds=20)
    seg, spans, peak = Segmenter(RATE, config, energy_vad), [], 0
    for block in wave.split(RATE):
        spans += seg.feed(block)
        peak = max(peak, seg.buffer.numel())
    spans += seg.flush()
    assert all((s.end - s.start) / RATE <= 20.0 for s in spans)
    cuts = [s.end / RATE for s in spans[:-1]]
    assert len(cuts) == 3 and all(abs(c - d) < 0.15 for c, d in zip(cuts, dips, strict=True))
    assert peak <= (20 + 1 + 1) * RATE  # a segment plus a block, not the 61 s file


def _long_wave(seconds: float = 4.0) -> torch.Tensor:
    return bursts([(0.2, 1.2), (1.6, 2.4), (2.8, seconds - 1)])


def test_iter_segments_decodes_spans_in_time_order(checkpoints):
    runner = Transcriber.from_checkpoint(checkpoints["asr"])
    wave = _long_wave()
    segments = list(iter_segments(runner, wave, CONFIG, vad=energy_vad))
    assert [round(s.start, 1) for s in segments] == [0.1, 1.5, 2.7]
    assert all(isinstance(s, Segment) and s.start < s.end for s in segments)
    spans = segment(wave, CONFIG, RATE)
    alone = runner.decode([s.audio for s in spans])
    assert [s.text for s in segments] == [r.text for r in alone]
    assert [s.score for s in segments] == pytest.approx([r.score for r in alone])


def test_pool_size_does_not_change_the_results(checkpoints):
    runner = Transcriber.from_checkpoint(checkpoints["asr"])
    wave = _long_wave()
    small = LongFormConfig(speech_pad_ms=64, min_silence_ms=200, pool_seconds=0, block_seconds=0.5)
    a = list(iter_segments(runner, wave, CONFIG, vad=energy_vad))
    b = list(iter_segments(runner, wave, small, vad=energy_vad))
    assert [(s.start, s.end, s.text) for s in a] == [(s.start, s.end, s.text) for s in b]


def test_word_times_are_monotonic_and_inside_the_segment(checkpoints):
    runner = Transcriber.from_checkpoint(checkpoints["asr"])
    span = Span(RATE, 3 * RATE, _long_wave()[RATE : 3 * RATE])
    tokens = runner.tokenizer.encode("ab cd efg")
    words = align_words(runner, [span], [S2TResult("ab cd efg", tokens, -1.0, {})])[0]
    assert [w.text for w in words] == ["ab", "cd", "efg"]
    assert all(1.0 <= w.start <= w.end <= 3.0 for w in words)
    assert all(a.end <= b.start for a, b in zip(words, words[1:], strict=False))


def test_word_timestamps_from_iter_segments(checkpoints):
    runner = Transcriber.from_checkpoint(checkpoints["asr"])
    for seg in iter_segments(runner, _long_wave(), CONFIG, word_timestamps=True, vad=energy_vad):
        assert isinstance(seg.words, list)
        assert all(seg.start <= w.start <= w.end <= seg.end for w in seg.words)


def test_word_timestamps_are_refused_without_a_target_ctc_head(checkpoints):
    runner = Translator.from_checkpoint(checkpoints["st"])
    with pytest.raises(SpeechError, match="CTC head") as e:
        check_word_timestamps(runner)
    assert "\n" not in str(e.value)
    with pytest.raises(SpeechError):
        next(iter_segments(runner, _long_wave(), CONFIG, word_timestamps=True, vad=energy_vad))


def test_token_words_for_characters_and_pieces():
    chars = CharTokenizer(list(" abc"))
    assert token_words(chars, chars.encode("ab c")) == [("ab", 0, 1), ("c", 3, 3)]

    class Pieces:  # SentencePiece-like: "▁" starts a word, decode strips the leading space
        pieces = {4: "▁he", 5: "llo", 6: "▁wor", 7: "ld", 8: "!"}

        def decode(self, ids):
            return "".join(self.pieces[i] for i in ids).replace("▁", " ").strip()

    assert token_words(Pieces(), [4, 5, 6, 7, 8]) == [("hello", 0, 1), ("world!", 2, 4)]


def test_short_spans_are_skipped_not_refused(checkpoints):
    runner = Transcriber.from_checkpoint(checkpoints["asr"])
    spans = [Span(0, 10, torch.zeros(10)), Span(100, 100 + RATE, _long_wave()[:RATE])]
    assert [s.start for s in decode_spans(runner, spans)] == [100 / RATE]


def test_read_blocks_resamples_and_reports_bad_files(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, np.zeros(22050 * 3, dtype=np.float32), 22050)
    blocks = list(read_blocks(path, RATE, 1.0))
    assert len(blocks) == 3 and abs(sum(b.numel() for b in blocks) - 3 * RATE) <= 3
    (tmp_path / "bad.wav").write_text("not audio")
    for bad in ("bad.wav", "missing.wav"):
        with pytest.raises(AudioError, match=bad):
            list(read_blocks(tmp_path / bad, RATE, 1.0))


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> tuple[str, list[tuple[float, float]]]:
    """Two flite sentences with silence around them, and where the speech lies (skips without flite)."""
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    folder = tmp_path_factory.mktemp("spoken")
    parts, layout, t = [], [], 0.0
    for i, text in enumerate(["The weather is nice today.", "Please call me tomorrow morning."]):
        wav = folder / f"{i}.wav"
        subprocess.run(
            ["flite", "-voice", "slt", "-t", text, "-o", str(wav)], check=True, capture_output=True
        )
        audio, rate = sf.read(wav, dtype="float32")
        assert rate == RATE
        nz = np.flatnonzero(np.abs(audio) > 0.02)
        parts += [np.zeros(RATE, dtype=np.float32), audio]
        layout.append((t + 1.0 + nz[0] / RATE, t + 1.0 + nz[-1] / RATE))
        t += 1.0 + len(audio) / RATE
    path = folder / "long.wav"
    sf.write(path, np.concatenate([*parts, np.zeros(RATE, dtype=np.float32)]), RATE)
    return str(path), layout


def test_silero_finds_the_sentences(spoken, checkpoints):
    path, layout = spoken
    torch.set_num_threads(1)
    segments = Transcriber.from_checkpoint(checkpoints["asr"]).transcribe_long(path, word_timestamps=True)
    assert len(segments) == 2
    for seg, (start, end) in zip(segments, layout, strict=True):
        assert abs(seg.start - start) < 0.4 and abs(seg.end - end) < 0.4


def test_timestamps_and_wrapping():
    assert timestamp(3661.5) == "01:01:01,500" and timestamp(0.0004, ".") == "00:00:00.000"
    assert wrap("short text") == ["short text"]
    text = " ".join(["word"] * 30)  # 149 characters: more than two lines of 42
    lines = wrap(text)
    assert len(lines) == 2 and " ".join(lines) == text


SEGMENTS = [
    Segment(0.5, 2.25, "hello there", -0.5, [5, 6]),
    Segment(3.0, 4.0, "", -1.0, []),
    Segment(
        61.0, 62.125, "general kenobi", -0.25, [7], [Word("general", 61.0, 61.5), Word("kenobi", 61.6, 62.1)]
    ),
]


def test_srt_vtt_txt_and_json_exactly():
    assert to_srt(SEGMENTS) == (
        "1\n00:00:00,500 --> 00:00:02,250\nhello there\n\n2\n00:01:01,000 --> 00:01:02,125\ngeneral kenobi\n"
    )
    assert to_vtt(SEGMENTS) == (
        "WEBVTT\n\n00:00:00.500 --> 00:00:02.250\nhello there\n\n"
        "00:01:01.000 --> 00:01:02.125\ngeneral kenobi\n"
    )
    assert to_txt(SEGMENTS) == "hello there\ngeneral kenobi\n"
    doc = json.loads(to_json(SEGMENTS, "a.wav"))
    assert doc["file"] == "a.wav" and doc["text"] == "hello there general kenobi"
    assert doc["segments"][0] == {"start": 0.5, "end": 2.25, "text": "hello there", "score": -0.5}
    assert doc["segments"][2]["words"][1] == {"word": "kenobi", "start": 61.6, "end": 62.1}


def test_a_long_segment_with_words_becomes_several_cues():
    words = [Word(f"w{i:02d}", i * 0.5, i * 0.5 + 0.4) for i in range(40)]
    seg = Segment(0.0, 20.0, " ".join(w.text for w in words), 0.0, [], words)
    split = cues([seg])
    assert len(split) > 1 and split[0].start == 0.0 and split[-1].end == 20.0
    assert all(len(c.lines) <= 2 and all(len(line) <= 42 for line in c.lines) for c in split)
    assert all(a.end == b.start for a, b in zip(split, split[1:], strict=False))
    assert " ".join(" ".join(c.lines) for c in split) == seg.text
    assert len(cues([seg._replace(words=None)])) == 1


def test_segmenter_at_another_rate_keeps_the_times():
    wave = bursts(LAYOUT)
    at_16k = segment(wave, CONFIG, RATE)
    seg = Segmenter(8000, CONFIG, energy_vad)
    at_8k = seg.feed(resample(wave, RATE, 8000)) + seg.flush()
    assert [(s.start * 2, s.end * 2) for s in at_8k] == [(s.start, s.end) for s in at_16k]
    assert all(s.audio.numel() == s.end - s.start for s in at_8k)
