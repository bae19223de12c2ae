"""The built-in corpora's default voices: who speaks the training data, who speaks ``test_unseen``.

Training voices (:data:`TRAIN_VOICES`, 64): the four 16 kHz flite voices and every pairing of
six espeak-ng English accents (:data:`ESPEAK_TRAIN_ACCENTS`) with ten of its variants
(:data:`ESPEAK_TRAIN_VARIANTS`: m1-m6, f1-f4).

Held-out voices (:data:`UNSEEN_VOICES`, 7), used only by the ``test_unseen`` split: festival's
``ked_diphone`` (a speaker no training voice was made from; festival's other Debian voice,
``kal_diphone``, is the speaker of flite's ``kal16``) and every pairing of two espeak-ng accents
absent from training (:data:`ESPEAK_UNSEEN_ACCENTS`: West Midlands, New York City) with three
variants absent from training (:data:`ESPEAK_UNSEEN_VARIANTS`: m7, m8, f5). No held-out voice
shares an engine voice, accent or variant with a training voice.

**Drawing a voice** (:func:`draw_voice`): the voices are grouped by engine (:func:`voice_groups`),
an engine is drawn uniformly, then a voice within it. With the defaults, flite's four voices thus
speak half of the training utterances and the 60 espeak-ng voices the other half (a uniform
draw over all 64 would give flite 6 %); the held-out split is half festival, half espeak-ng.
A list of one engine's voices is drawn from uniformly, as before.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from data_prep import voices

FLITE_TRAIN = ("slt", "rms", "awb", "kal16")
"""The four 16 kHz flite voices (all in training)."""
ESPEAK_TRAIN_ACCENTS = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-029")
"""espeak-ng English accents of the training voices: US, British, RP, Scottish, Lancastrian, Caribbean."""
ESPEAK_TRAIN_VARIANTS = tuple(f"m{i}" for i in range(1, 7)) + tuple(f"f{i}" for i in range(1, 5))
"""espeak-ng variants of the training voices: m1-m6, f1-f4."""
ESPEAK_UNSEEN_ACCENTS = ("en-gb-x-gbcwmd", "en-us-nyc")
"""espeak-ng accents held out of training: West Midlands, New York City."""
ESPEAK_UNSEEN_VARIANTS = ("m7", "m8", "f5")
"""espeak-ng variants held out of training."""
FESTIVAL_UNSEEN = ("festival:ked_diphone",)
"""festival voices held out of training."""


def espeak_voices(accents: Iterable[str], variants: Iterable[str]) -> tuple[str, ...]:
    """Every ``accent+variant`` espeak-ng spec, accent-major."""
    variants = tuple(variants)
    return tuple(f"{accent}+{variant}" for accent in accents for variant in variants)


TRAIN_VOICES = FLITE_TRAIN + espeak_voices(ESPEAK_TRAIN_ACCENTS, ESPEAK_TRAIN_VARIANTS)
"""Default voices of the training, dev and test splits (64)."""
UNSEEN_VOICES = FESTIVAL_UNSEEN + espeak_voices(ESPEAK_UNSEEN_ACCENTS, ESPEAK_UNSEEN_VARIANTS)
"""Default voices of the ``test_unseen`` split (7), disjoint from :data:`TRAIN_VOICES`."""


def voice_groups(specs: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """Voice specs grouped by engine, groups in order of first appearance, specs in given order.

    Raises:
        ConfigError: A spec does not parse.
    """
    groups: dict[str, list[str]] = {}
    for spec in specs:
        groups.setdefault(voices.parse_voice(spec).engine, []).append(spec)
    return tuple(tuple(group) for group in groups.values())


def draw_voice(rng: random.Random, groups: tuple[tuple[str, ...], ...]) -> str:
    """Draw an engine uniformly, then one of its voices uniformly (two draws from ``rng``)."""
    group = rng.choice(groups)
    return rng.choice(group)
