"""Text processing: tokenizers (characters, SentencePiece), a normaliser, phonemes, word coverage.

Every tokenizer uses the same special ids: pad=0, bos=1, eos=2, unk=3. ``encode`` never adds
bos/eos (models do) and never fails on unknown input (it maps to unk and is counted in
``unknown_counts``).
"""

from speech.text.base import BOS_ID, EOS_ID, NUM_SPECIALS, PAD_ID, UNK_ID, Tokenizer
from speech.text.char import CharTokenizer
from speech.text.factory import (
    load_tokenizer,
    tokenizer_from_dict,
    tokenizer_to_dict,
    train_tokenizer_from_manifest,
)
from speech.text.normalizer import PUNCTUATION_POLICIES, TextNormalizer
from speech.text.phonemes import Phonemizer
from speech.text.sentences import split_sentences
from speech.text.spm import SentencePieceTokenizer
from speech.text.vocabulary import WordCoverage, text_words, word_coverage, word_vocabulary

__all__ = [
    "BOS_ID",
    "EOS_ID",
    "NUM_SPECIALS",
    "PAD_ID",
    "PUNCTUATION_POLICIES",
    "UNK_ID",
    "CharTokenizer",
    "Phonemizer",
    "SentencePieceTokenizer",
    "TextNormalizer",
    "Tokenizer",
    "WordCoverage",
    "load_tokenizer",
    "split_sentences",
    "text_words",
    "tokenizer_from_dict",
    "tokenizer_to_dict",
    "train_tokenizer_from_manifest",
    "word_coverage",
    "word_vocabulary",
]
