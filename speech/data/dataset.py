"""A dataset of waveforms and token ids read from a manifest, and its collate function."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import torch

from speech.audio import load
from speech.data.manifest import Utterance

if TYPE_CHECKING:  # speech.text imports speech.data for manifests
    from speech.text import Tokenizer


@dataclass
class Sample:
    """One utterance as tensors.

    Attributes:
        id: Utterance id.
        waveform: Mono waveform, shape (T,).
        text: Token ids of the transcript, shape (U,), or None without a text tokenizer.
        translation: Token ids of the translation, shape (U',), or None.
        speaker: Speaker index, or None without a speaker table.
    """

    id: str
    waveform: torch.Tensor
    text: torch.Tensor | None = None
    translation: torch.Tensor | None = None
    speaker: int | None = None


@dataclass
class Batch:
    """A padded batch; every ``*_lengths`` tensor holds the valid length of each item.

    Attributes:
        ids: Utterance ids, length B.
        waveforms: Zero-padded waveforms, shape (B, T).
        waveform_lengths: Shape (B,).
        text: Transcript token ids padded with the tokenizer's pad id, shape (B, U), or None.
        text_lengths: Shape (B,), or None.
        translation: Translation token ids, shape (B, U'), or None.
        translation_lengths: Shape (B,), or None.
        speakers: Speaker indices, shape (B,), or None.
    """

    ids: list[str]
    waveforms: torch.Tensor
    waveform_lengths: torch.Tensor
    text: torch.Tensor | None = None
    text_lengths: torch.Tensor | None = None
    translation: torch.Tensor | None = None
    translation_lengths: torch.Tensor | None = None
    speakers: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> Batch:
        """A copy with every tensor moved to ``device``."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in moved.items():
            if isinstance(value, torch.Tensor):
                moved[name] = value.to(device, non_blocking=True)
        return Batch(**moved)

    def __len__(self) -> int:
        return len(self.ids)


class SpeechDataset(torch.utils.data.Dataset):
    """Waveforms and token ids of the utterances of a manifest.

    Args:
        utterances: Manifest entries (see :func:`speech.data.read_manifest`).
        sample_rate: Waveforms are resampled to this rate.
        text_tokenizer: Encodes ``text``; None leaves ``Sample.text`` unset.
        translation_tokenizer: Encodes ``translation``; None leaves it unset.
        text_transform: Applied to ``text`` before tokenizing (e.g. a TextNormalizer).
        translation_transform: Applied to ``translation`` before tokenizing.
        speaker_ids: Maps the manifest's ``speaker`` to an index (multi-speaker TTS); None
            leaves ``Sample.speaker`` unset.
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        sample_rate: int,
        text_tokenizer: Tokenizer | None = None,
        translation_tokenizer: Tokenizer | None = None,
        text_transform: Callable[[str], str] | None = None,
        translation_transform: Callable[[str], str] | None = None,
        speaker_ids: Mapping[str, int] | None = None,
    ) -> None:
        self.utterances = list(utterances)
        self.sample_rate = sample_rate
        self.text_tokenizer = text_tokenizer
        self.translation_tokenizer = translation_tokenizer
        self.text_transform = text_transform
        self.translation_transform = translation_transform
        self.speaker_ids = speaker_ids

    def __len__(self) -> int:
        return len(self.utterances)

    def durations(self) -> list[float]:
        """Duration of every utterance in seconds (from the manifest; no audio is read)."""
        return [u.duration for u in self.utterances]

    def __getitem__(self, index: int) -> Sample:
        utt = self.utterances[index]
        return self.sample(utt, load(utt.audio, self.sample_rate))

    def sample(self, utt: Utterance, waveform: torch.Tensor) -> Sample:
        """The :class:`Sample` of one utterance whose audio is already loaded (shards read it from a tar).

        Args:
            utt: The manifest entry (its ``audio`` is not read).
            waveform: Its mono waveform at ``sample_rate``, shape (T,).

        Raises:
            ValueError: The utterance lacks a field this dataset encodes.
        """
        sample = Sample(id=utt.id, waveform=waveform)
        if self.text_tokenizer is not None:
            sample.text = _encode(self.text_tokenizer, utt.text, self.text_transform)
        if self.translation_tokenizer is not None:
            if utt.translation is None:
                raise ValueError(f"utterance {utt.id} has no 'translation' field")
            sample.translation = _encode(
                self.translation_tokenizer, utt.translation, self.translation_transform
            )
        if self.speaker_ids is not None:
            if utt.speaker not in self.speaker_ids:
                raise ValueError(f"utterance {utt.id}: speaker {utt.speaker!r} is not in the speaker table")
            sample.speaker = self.speaker_ids[utt.speaker]
        return sample


def _encode(tokenizer: Tokenizer, text: str, transform: Callable[[str], str] | None) -> torch.Tensor:
    if transform is not None:
        text = transform(text)
    return torch.tensor(tokenizer.encode(text), dtype=torch.long)


def pad_sequences(
    sequences: Sequence[torch.Tensor], pad_value: float = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad 1-D tensors into one tensor.

    Args:
        sequences: Tensors of shape (L_i,).
        pad_value: Fill value after each sequence's end.

    Returns:
        ``(padded (B, max L), lengths (B,))``.
    """
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    padded = torch.nn.utils.rnn.pad_sequence(list(sequences), batch_first=True, padding_value=pad_value)
    return padded, lengths


class Collate:
    """Collate :class:`Sample` objects into a :class:`Batch`.

    Args:
        text_pad_id: Pad id for transcript tokens.
        translation_pad_id: Pad id for translation tokens.
    """

    def __init__(self, text_pad_id: int = 0, translation_pad_id: int = 0) -> None:
        self.text_pad_id = text_pad_id
        self.translation_pad_id = translation_pad_id

    def __call__(self, samples: Sequence[Sample]) -> Batch:
        """Pad waveforms with zeros and token ids with the pad ids; record every length."""
        waveforms, waveform_lengths = pad_sequences([s.waveform for s in samples])
        batch = Batch(ids=[s.id for s in samples], waveforms=waveforms, waveform_lengths=waveform_lengths)
        if samples[0].text is not None:
            batch.text, batch.text_lengths = pad_sequences([s.text for s in samples], self.text_pad_id)
        if samples[0].translation is not None:
            batch.translation, batch.translation_lengths = pad_sequences(
                [s.translation for s in samples], self.translation_pad_id
            )
        if samples[0].speaker is not None:
            batch.speakers = torch.tensor([s.speaker for s in samples], dtype=torch.long)
        return batch
