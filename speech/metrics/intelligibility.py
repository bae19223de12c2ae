"""Intelligibility of synthesized speech: the WER of an independent recognizer (pocketsphinx).

A TTS system is scored by how well a recognizer that never saw it understands its output. The
recognizer is CMU PocketSphinx (``pip install pocketsphinx``; it ships a US-English acoustic
model, the CMU pronouncing dictionary and a general US-English trigram language model). Two
language models can judge (:data:`JUDGE_LMS`):

- ``task`` (:meth:`PocketsphinxRecognizer.from_texts`): a trigram LM built from the training
  texts by pocketsphinx's own ARPA builder, :class:`pocketsphinx.lm.ArpaBoLM` (Katz-style
  back-off with a fixed discount mass of 0.5), and a dictionary restricted to their words. It
  knows what may be said, so it forgives much; it is the default of ``speech score tts``.
- ``general`` (:meth:`PocketsphinxRecognizer.general`): the shipped ``en-us.lm.bin`` and the
  whole CMU dictionary (about 134k words); stricter, and the same for every corpus, so it also
  serves as the peer ASR system (:mod:`speech.metrics.peer`).

Scoring the reference recordings of the same texts the same way gives the ceiling.

Texts are compared after :func:`normalize_for_wer`: lower case, numbers written as words,
punctuation removed, hyphenated words split (``"Seventy-eight!"`` -> ``"seventy eight"``).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from speech import audio
from speech.errors import SpeechError
from speech.metrics.text import error_rates
from speech.text.normalizer import TextNormalizer

SAMPLE_RATE = 16000
"""The rate of pocketsphinx's acoustic model; other rates are resampled to it."""
JUDGE_LMS = ("task", "general")
"""Language models of the intelligibility judge: built from the training texts, or pocketsphinx's own."""
GENERAL_LM = "en-us/en-us.lm.bin"
"""pocketsphinx's general US-English trigram LM, under ``pocketsphinx.get_model_path()``."""
CMU_DICTIONARY = "en-us/cmudict-en-us.dict"
"""The CMU pronouncing dictionary pocketsphinx ships, under ``pocketsphinx.get_model_path()``."""
_INSTALL_HINT = "pip install pocketsphinx==5.1.1"
_MAX_LISTED = 20


def normalize_for_wer(text: str) -> str:
    """Lower case, numbers as words, no punctuation, hyphens as spaces, single spaces.

    Apostrophes inside words stay (``don't``), as in the CMU dictionary.
    """
    return " ".join(_normalizer()(text).replace("-", " ").split())


class PocketsphinxRecognizer:
    """Offline English recognizer: pocketsphinx's acoustic model with a task language model.

    Huggins-Daines et al. 2006, "PocketSphinx: a free, real-time continuous speech recognition
    system for hand-held devices". Build one with :meth:`from_texts` (a task LM) or
    :meth:`general` (pocketsphinx's general LM), or :func:`judge` for either by name.

    Args:
        lm_path: ARPA (or binary) n-gram language model.
        dict_path: Pronouncing dictionary (CMU format) covering the model's words.
        hmm_path: Acoustic model folder; None uses the US-English model pocketsphinx ships.

    Raises:
        SpeechError: pocketsphinx is not installed, or cannot load the files.
    """

    def __init__(
        self,
        lm_path: str | os.PathLike,
        dict_path: str | os.PathLike,
        hmm_path: str | os.PathLike | None = None,
    ) -> None:
        ps = _pocketsphinx()
        hmm = str(hmm_path) if hmm_path is not None else ps.get_model_path("en-us/en-us")
        try:
            self._decoder = ps.Decoder(
                hmm=hmm, lm=str(lm_path), dict=str(dict_path), samprate=SAMPLE_RATE, loglevel="FATAL"
            )
        except (RuntimeError, ValueError) as e:
            raise SpeechError(f"pocketsphinx: cannot load {lm_path} / {dict_path} ({e})") from None
        self.skipped_sentences = 0
        self.missing_words: list[str] = []

    @classmethod
    def from_texts(
        cls, texts: Sequence[str], workdir: str | os.PathLike | None = None
    ) -> PocketsphinxRecognizer:
        """Build the language model and dictionary from texts, then the recognizer.

        The texts are normalised (:func:`normalize_for_wer`); the trigram LM is written by
        ``pocketsphinx.lm.ArpaBoLM`` with sentence marks ``<s>``/``</s>``, and the dictionary
        holds every pronunciation the bundled CMU dictionary gives for the texts' words.

        Args:
            texts: Training texts, one sentence each.
            workdir: Folder to keep ``lm.arpa`` and ``words.dict`` in (created if needed); None
                uses a temporary folder removed once the recognizer is loaded.

        Returns:
            The recognizer.

        Sentences with a word missing from the CMU dictionary are left out of the language
        model (real corpora have names the dictionary lacks); how many, and which words, is kept
        in :attr:`skipped_sentences` and :attr:`missing_words`.

        Raises:
            SpeechError: No text has words, or every sentence has a word missing from the CMU
                dictionary (those words are listed, up to 20).
        """
        sentences = [s for s in (normalize_for_wer(t) for t in texts) if s]
        if not sentences:
            raise SpeechError("pocketsphinx: no words in the language-model texts")
        lexicon = _cmu_dictionary()
        known = [t for t in sentences if all(w in lexicon for w in t.split())]
        missing = sorted({w for t in sentences for w in t.split() if w not in lexicon})
        if not known:
            shown = " ".join(missing[:_MAX_LISTED]) + (" ..." if len(missing) > _MAX_LISTED else "")
            raise SpeechError(
                f"pocketsphinx: {len(missing)} word(s) of the texts are not in the CMU dictionary: {shown}"
            )
        if workdir is not None:
            Path(workdir).mkdir(parents=True, exist_ok=True)
            recognizer = cls(*_write_models(known, Path(workdir)))
        else:
            with tempfile.TemporaryDirectory(prefix="speech-pocketsphinx-") as tmp:
                recognizer = cls(*_write_models(known, Path(tmp)))
        recognizer.skipped_sentences = len(sentences) - len(known)
        recognizer.missing_words = missing
        return recognizer

    @classmethod
    def general(cls) -> PocketsphinxRecognizer:
        """The recognizer with pocketsphinx's general US-English LM and the whole CMU dictionary.

        The files ship with the ``pocketsphinx`` package (:data:`GENERAL_LM`,
        :data:`CMU_DICTIONARY`); loading takes about half a second.

        Raises:
            SpeechError: pocketsphinx is not installed, or its model files are missing.
        """
        ps = _pocketsphinx()
        return cls(ps.get_model_path(GENERAL_LM), ps.get_model_path(CMU_DICTIONARY))

    def recognize(self, waveform: torch.Tensor, sample_rate: int) -> str:
        """Transcribe one utterance.

        Args:
            waveform: Mono waveform ``(T,)``, float in [-1, 1] (clipped beyond).
            sample_rate: Its rate in Hz; resampled to 16 kHz when different.

        Returns:
            The recognized words, lower case, space-separated ("" when nothing is recognized).

        Raises:
            ValueError: The waveform is not 1-D.
        """
        if waveform.dim() != 1:
            raise ValueError(f"expected a mono waveform (T,), got shape {tuple(waveform.shape)}")
        if waveform.numel() == 0:
            return ""
        x = audio.resample(waveform.detach().to("cpu", torch.float32), sample_rate, SAMPLE_RATE)
        pcm = (x.clamp(-1.0, 1.0) * 32767.0).round().to(torch.int16).numpy()
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(np.ascontiguousarray(pcm).tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        return " ".join(hypothesis.hypstr.split()) if hypothesis is not None else ""


def judge(lm: str, texts: Sequence[str] = ()) -> PocketsphinxRecognizer:
    """The intelligibility judge with language model ``lm`` (one of :data:`JUDGE_LMS`).

    Args:
        lm: ``"task"`` (built from ``texts``) or ``"general"`` (``texts`` unused).
        texts: Training texts of the task LM.

    Raises:
        SpeechError: An unknown ``lm``, or what :meth:`PocketsphinxRecognizer.from_texts` raises.
    """
    if lm == "general":
        return PocketsphinxRecognizer.general()
    if lm == "task":
        return PocketsphinxRecognizer.from_texts(texts)
    raise SpeechError(f"unknown judge language model {lm!r} (choose from {', '.join(JUDGE_LMS)})")


def intelligibility_wer(
    recognizer: PocketsphinxRecognizer,
    waveforms_with_rates: Iterable[tuple[torch.Tensor, int]],
    references: Sequence[str],
) -> float:
    """Corpus WER (a fraction) of the recognizer on waveforms against their texts.

    Both sides are normalised with :func:`normalize_for_wer` and scored by jiwer through
    :func:`speech.metrics.error_rates`.

    Args:
        recognizer: The recognizer.
        waveforms_with_rates: ``(waveform (T,), sample_rate)`` per utterance.
        references: The text each waveform should say, in the same order.

    Raises:
        ValueError: The counts differ, or every reference is empty.
    """
    hypotheses = [recognizer.recognize(w, sr) for w, sr in waveforms_with_rates]
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} waveforms but {len(references)} references")
    refs = [normalize_for_wer(r) for r in references]
    return error_rates(refs, [normalize_for_wer(h) for h in hypotheses]).wer


def _write_models(sentences: list[str], folder: Path) -> tuple[Path, Path]:
    """Write ``lm.arpa`` and ``words.dict`` for the sentences; return their paths."""
    from pocketsphinx.lm import ArpaBoLM

    words = sorted({w for s in sentences for w in s.split()})
    lexicon = _cmu_dictionary()
    dict_path, lm_path = folder / "words.dict", folder / "lm.arpa"
    dict_path.write_text("".join(line for w in words for line in lexicon[w]), encoding="utf-8")
    model = ArpaBoLM(text="\n".join(sentences), add_start=True)
    model.compute()
    with lm_path.open("w", encoding="utf-8") as f:
        model.write(f)
    return lm_path, dict_path


@functools.cache
def _cmu_dictionary() -> dict[str, list[str]]:
    """The bundled CMU dictionary: word -> its lines (``word``, ``word(2)`` ...), newline-ended."""
    path = _pocketsphinx().get_model_path(CMU_DICTIONARY)
    lexicon: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            entry = line.split(maxsplit=1)
            if len(entry) == 2:
                lexicon.setdefault(entry[0].split("(", 1)[0], []).append(line.rstrip("\n") + "\n")
    return lexicon


@functools.cache
def _normalizer() -> TextNormalizer:
    return TextNormalizer("en", lowercase=True, punctuation="strip")


def _pocketsphinx() -> Any:
    try:
        import pocketsphinx
    except ImportError:
        raise SpeechError(f"pocketsphinx is not installed: {_INSTALL_HINT}") from None
    return pocketsphinx
