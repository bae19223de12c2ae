"""What the worker thread runs: uploads read and decoded in batches, texts synthesized and plotted.

Every function here runs on :class:`~speech.serve.worker.Worker`'s one thread; the request
handlers only check sizes. Reading an upload (soundfile, resampling) happens here too, so that no
torch work runs outside that thread.
"""

from __future__ import annotations

import base64
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from speech.audio import info, load
from speech.errors import SpeechError
from speech.inference import S2TRunner, Synthesizer


class TooLargeError(SpeechError):
    """An input over a configured limit (HTTP 413)."""


@dataclass(frozen=True)
class Upload:
    """An uploaded recording.

    Attributes:
        name: The client's file name, used in messages only.
        data: The file's bytes.
    """

    name: str
    data: bytes


def read_upload(upload: Upload, sample_rate: int, max_seconds: float) -> torch.Tensor:
    """The upload as a mono waveform (T,) at ``sample_rate``, via :func:`speech.audio.load`.

    Raises:
        AudioError: Not audio, empty or corrupt (the message names ``upload.name``).
        TooLargeError: Longer than ``max_seconds`` (checked on the header, before decoding).
    """
    suffix = Path(upload.name).suffix if len(Path(upload.name).suffix) <= 8 else ""
    with tempfile.TemporaryDirectory(prefix="speech-serve-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(upload.data)
        try:
            seconds = info(path).duration
            if seconds > max_seconds:
                limit = f"the limit is {max_seconds:g} s"
                raise TooLargeError(f"{upload.name}: {seconds:.1f} s of audio; {limit}")
            return load(path, sample_rate)
        except SpeechError as e:
            raise type(e)(str(e).replace(str(path), upload.name)) from None


def decode_uploads(
    runner: S2TRunner, uploads: Sequence[Upload], max_seconds: float
) -> list[dict | BaseException]:
    """Transcribe or translate uploads with one :meth:`S2TRunner.decode` call.

    Each upload is read and checked on its own (a bad one gets its exception, the others go on),
    then the good ones are decoded together, sorted by length inside ``decode``.

    Returns:
        Per upload: ``{"text", "score", "scores", "seconds"}``, or the exception that refused it.
    """
    results: list[dict | BaseException] = []
    waves: dict[int, torch.Tensor] = {}
    for i, upload in enumerate(uploads):
        try:
            wave = read_upload(upload, runner.sample_rate, max_seconds)
            waves[i] = runner.check_audio(wave, upload.name)
            results.append({"seconds": wave.numel() / runner.sample_rate})
        except SpeechError as e:
            results.append(e)
    if waves:
        decoded = runner.decode(list(waves.values()), batch_size=len(waves))
        for i, result in zip(waves, decoded, strict=True):
            results[i].update(text=result.text, score=result.score, scores=result.scores)
    return results


@dataclass(frozen=True)
class SpeechRequest:
    """A text to speak.

    Attributes:
        text: The text (checked by the handler: not empty, not too long).
        speaker: Speaker name of a multi-speaker model.
        plot: Also draw the alignment (most of the time of a short text's request).
    """

    text: str
    speaker: str | None = None
    plot: bool = True


def synthesize(synth: Synthesizer, request: SpeechRequest) -> dict:
    """Speak a text; the WAV and its alignment plot as bytes, with what the model says about them.

    Returns:
        ``{"wav": bytes, "png": bytes or None, "sample_rate", "seconds", "sentences", "stopped",
        "warnings"}``.

    Raises:
        SpeechError: Nothing the model can say, or a bad speaker.
    """
    from speech.audio import save
    from speech.inference.synthesizer import SynthesisWarning
    from speech.plots import save_synthesis_alignment  # the plot of `speech synthesize --alignment`

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = synth.synthesize_text(request.text, speaker=request.speaker)
    with tempfile.TemporaryDirectory(prefix="speech-serve-") as folder:
        wav, png = Path(folder) / "speech.wav", Path(folder) / "alignment.png"
        save(wav, result.waveform, synth.sample_rate)
        if request.plot:
            save_synthesis_alignment(png, result)
        wav_bytes, png_bytes = wav.read_bytes(), png.read_bytes() if request.plot else None
    return {
        "wav": wav_bytes,
        "png": png_bytes,
        "sample_rate": synth.sample_rate,
        "seconds": result.waveform.numel() / synth.sample_rate,
        "sentences": result.sentences,
        "stopped": [u.stopped for u in result.utterances],
        # only the model's own (the record also catches other threads' warnings meanwhile)
        "warnings": list(
            dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, SynthesisWarning))
        ),
    }


def synthesize_each(synth: Synthesizer, requests: Sequence[SpeechRequest]) -> list[dict | BaseException]:
    """:func:`synthesize` each request in turn; a refused one gets its :class:`SpeechError`."""
    results: list[dict | BaseException] = []
    for request in requests:
        try:
            results.append(synthesize(synth, request))
        except SpeechError as e:
            results.append(e)
    return results


def data_url(data: bytes, mime: str) -> str:
    """``data:MIME;base64,...``: bytes a browser can use as an ``<audio>`` or ``<img>`` source."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
