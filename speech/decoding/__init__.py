"""Decoding: one batched beam search and a greedy search over weighted Scorers."""

from speech.decoding.beam_search import BeamSearch, SearchConfig
from speech.decoding.ctc_prefix import CTCPrefixScorer, CTCPrefixState
from speech.decoding.greedy import greedy_search
from speech.decoding.scorer import Hypothesis, PartialScorer, Scorer

__all__ = [
    "BeamSearch",
    "CTCPrefixScorer",
    "CTCPrefixState",
    "Hypothesis",
    "PartialScorer",
    "Scorer",
    "SearchConfig",
    "greedy_search",
]
