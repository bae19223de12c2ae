"""Manifests, datasets, length-bucketed batch sampling and collation."""

from speech.data.dataset import Batch, Collate, Sample, SpeechDataset, pad_sequences
from speech.data.manifest import Utterance, read_manifest, write_manifest
from speech.data.sampler import LengthBucketSampler

__all__ = [
    "Batch",
    "Collate",
    "LengthBucketSampler",
    "Sample",
    "SpeechDataset",
    "Utterance",
    "pad_sequences",
    "read_manifest",
    "write_manifest",
]
