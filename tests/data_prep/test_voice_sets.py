from __future__ import annotations

import random
from collections import Counter

from data_prep import voice_sets, voices
from data_prep.synthetic import DingConfig, MiniConfig
from data_prep.synthetic_common import JitterConfig, jittered_job


def test_default_voice_lists() -> None:
    train, unseen = voice_sets.TRAIN_VOICES, voice_sets.UNSEEN_VOICES
    assert MiniConfig().voices == DingConfig().voices == train
    assert MiniConfig().unseen_voices == DingConfig().unseen_voices == unseen
    assert len(train) == len(set(train)) == 4 + 6 * 10 and set(voice_sets.FLITE_TRAIN) <= set(train)
    assert len(unseen) == len(set(unseen)) == 1 + 2 * 3
    parsed_train = [voices.parse_voice(spec) for spec in train]
    parsed_unseen = [voices.parse_voice(spec) for spec in unseen]
    assert {v.engine for v in parsed_unseen} == {"festival", "espeak"}
    assert not {v.speaker_key for v in parsed_train} & {v.speaker_key for v in parsed_unseen}
    train_accents = {v.name for v in parsed_train if v.engine == "espeak"}
    train_variants = {v.variant for v in parsed_train if v.engine == "espeak"}
    for voice in parsed_unseen:
        assert voice.name not in train_accents and voice.variant not in train_variants
    for voice in parsed_train + parsed_unseen:
        voices.check_voice(voice)  # every default voice is installed


def test_espeak_voices_is_accents_times_variants() -> None:
    assert voice_sets.espeak_voices(("en-us", "en-gb"), ("m1", "f2")) == (
        "en-us+m1",
        "en-us+f2",
        "en-gb+m1",
        "en-gb+f2",
    )


def test_draw_gives_each_engine_an_even_share() -> None:
    groups = voice_sets.voice_groups(voice_sets.TRAIN_VOICES)
    assert [len(g) for g in groups] == [4, 60]
    rng = random.Random(0)
    drawn = Counter(voices.parse_voice(voice_sets.draw_voice(rng, groups)).engine for _ in range(4000))
    assert 0.45 < drawn["flite"] / 4000 < 0.55
    assert voice_sets.voice_groups(("slt", "awb")) == (("slt", "awb"),)


def test_jittered_job_is_seeded_and_draws_prosody() -> None:
    config = JitterConfig(voices=("slt", "en-us+m3"), unseen_voices=(), prosody_jitter=0.15)
    voice_list = {spec: voices.parse_voice(spec) for spec in config.voices}
    groups = voice_sets.voice_groups(config.voices)
    jobs = [jittered_job(config, voice_list, groups, f"u{i}", "one", f"{i}.wav") for i in range(50)]
    assert jobs == [jittered_job(config, voice_list, groups, f"u{i}", "one", f"{i}.wav") for i in range(50)]
    assert all(0.85 <= j.prosody.f0_mean <= 1.15 and 0.7 <= j.prosody.f0_range <= 1.3 for j in jobs)
    assert len({j.prosody for j in jobs}) == 50
    flat = JitterConfig(voices=config.voices, unseen_voices=(), prosody_jitter=0.0)
    plain = [jittered_job(flat, voice_list, groups, f"u{i}", "one", f"{i}.wav") for i in range(50)]
    assert all(j.prosody == voices.NEUTRAL for j in plain)
    assert [(j.voice, j.tempo, j.pitch) for j in plain] == [(j.voice, j.tempo, j.pitch) for j in jobs]
