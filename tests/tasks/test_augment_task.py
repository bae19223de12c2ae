"""Waveform augmentation inside the ASR and ST tasks: config section, training-only, a real run."""

import pytest
import torch

import speech.features.augment as augment_module
from speech.data import Batch
from speech.errors import ConfigError
from speech.features import AugmentConfig
from speech.tasks.asr import ASRConfig, ASRTask
from speech.tasks.st import STConfig, STTask
from speech.tasks.train import load_config, train_asr
from speech.text import CharTokenizer
from tests.tasks.conftest import SMOKE, data_overrides

RECOMMENDED = """\
augment:
  speed_factors: [0.9, 1.0, 1.1]
  gain_db: [-6, 6]
  noise_prob: 0.5
  snr_db: [5, 25]
  noise_types: [white, pink, brown, babble]
  babble_speakers: 3
  reverb_prob: 0.3
  rt60: [0.2, 0.8]
  drr_db: [0, 10]
"""
AUGMENT = [
    "augment.speed_factors=[0.9, 1.0, 1.1]",
    "augment.gain_db=[-6, 6]",
    "augment.noise_prob=1.0",
    "augment.reverb_prob=1.0",
]
TINY = [o for o in SMOKE if o.startswith("model.")] + [
    "specaugment.n_freq_masks=0",
    "specaugment.n_time_masks=0",
]


@pytest.mark.parametrize("cls", [ASRConfig, STConfig])
def test_yaml_section_loads_and_configs_without_it_stay_off(cls, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(RECOMMENDED)
    config = load_config(cls, path, [])
    assert config.augment.enabled and config.augment.speed_factors == (0.9, 1.0, 1.1)
    assert config.augment.noise_types == ("white", "pink", "brown", "babble")
    assert load_config(cls, None, []).augment == AugmentConfig()
    assert not load_config(cls, None, []).augment.enabled
    with pytest.raises(ConfigError, match=r"c\.yaml: 'augment\.snr_db' must be \[low, high\]"):
        load_config(cls, path, ["augment.snr_db=[25, 5]"])


def batch(tokenizer: CharTokenizer) -> Batch:
    g = torch.Generator().manual_seed(0)
    waveforms = 0.1 * torch.randn(2, 16000, generator=g)
    waveforms[1, 12000:] = 0
    texts = ["one two", "three"]
    ids = [tokenizer.encode(t) for t in texts]
    text = torch.full((2, max(map(len, ids))), tokenizer.pad_id)
    for i, row in enumerate(ids):
        text[i, : len(row)] = torch.tensor(row)
    lengths = torch.tensor(list(map(len, ids)))
    return Batch(texts, waveforms, torch.tensor([16000, 12000]), text, lengths, text, lengths)


@pytest.mark.filterwarnings("ignore:You are trying to `self.log")  # no trainer attached
@pytest.mark.parametrize("kind", ["asr", "st"])
def test_task_augments_features_only_in_training(kind):
    tokenizer = CharTokenizer.build(["one two three"])

    def task(overrides: list[str]):
        if kind == "asr":
            return ASRTask(load_config(ASRConfig, None, TINY + overrides), tokenizer)
        return STTask(load_config(STConfig, None, TINY + overrides), tokenizer, tokenizer)

    plain, augmented = task([]).eval(), task(AUGMENT).eval()
    assert plain.state_dict().keys() == augmented.state_dict().keys()  # old checkpoints load
    b = batch(tokenizer)
    expected = plain.features(b.waveforms, b.waveform_lengths)
    for features, frames in (
        augmented.features(b.waveforms, b.waveform_lengths),
        plain.train().features(b.waveforms, b.waveform_lengths),
    ):
        assert torch.equal(features, expected[0]) and torch.equal(frames, expected[1])
    augmented.train()
    torch.manual_seed(0)
    features, frames = augmented.features(b.waveforms, b.waveform_lengths)
    assert features.shape != expected[0].shape or not torch.allclose(features, expected[0])
    loss = augmented.training_step(b, 0)
    loss.backward()
    assert torch.isfinite(loss)


def test_training_run_augments_training_steps_only(asr_data, tmp_path, monkeypatch):
    calls = []
    real = augment_module.augment

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(augment_module, "augment", spy)
    run = ["trainer.max_steps=2", "trainer.precision=bf16-mixed", "trainer.accelerator=cpu"]  # under autocast
    overrides = SMOKE + data_overrides(asr_data) + AUGMENT + run
    assert train_asr(None, tmp_path / "exp", overrides).is_file()
    assert len(calls) == 2  # the sanity check and validation run in eval mode, unaugmented
