"""Manifests, datasets, length-bucketed batch sampling and collation; tar shards for large corpora."""

from speech.data.dataset import Batch, Collate, Sample, SpeechDataset, pad_sequences
from speech.data.manifest import Utterance, read_manifest, write_manifest
from speech.data.sampler import LengthBucketSampler
from speech.data.shard_writer import ShardSummary, write_shards
from speech.data.shards import (
    ShardDataset,
    ShardInfo,
    is_shard_folder,
    read_shard_list,
    read_shard_utterances,
    read_utterances,
)

__all__ = [
    "Batch",
    "Collate",
    "LengthBucketSampler",
    "Sample",
    "ShardDataset",
    "ShardInfo",
    "ShardSummary",
    "SpeechDataset",
    "Utterance",
    "is_shard_folder",
    "pad_sequences",
    "read_manifest",
    "read_shard_list",
    "read_shard_utterances",
    "read_utterances",
    "write_manifest",
    "write_shards",
]
