import json

import pytest
import torch

from speech.audio import save
from speech.data.manifest import read_manifest
from speech.errors import ConfigError
from speech.features import CMVNStats, GlobalCMVN, LogMel, LogMelConfig, compute_cmvn_stats


def masked_moments(x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    valid = torch.cat([x[i, :n] for i, n in enumerate(lengths.tolist())])  # (N, F)
    return valid.mean(0), valid.std(0, unbiased=False)


def test_normalizes_valid_frames_and_keeps_padding_zero():
    g = torch.Generator().manual_seed(0)
    mean, std = torch.linspace(-8, 2, 16), torch.linspace(0.5, 3, 16)
    features = torch.randn(3, 50, 16, generator=g) * std + mean
    lengths = torch.tensor([50, 31, 7])
    data_mean, data_std = masked_moments(features, lengths)
    cmvn = GlobalCMVN.from_stats(CMVNStats(data_mean, data_std, int(lengths.sum())))
    out = cmvn(features, lengths)
    out_mean, out_std = masked_moments(out, lengths)
    assert out_mean.abs().max() < 1e-4
    assert (out_std - 1).abs().max() < 1e-4
    assert torch.all(out[1, 31:] == 0) and torch.all(out[2, 7:] == 0)
    assert out.shape == features.shape


def test_no_lengths_and_dtype_preserved():
    cmvn = GlobalCMVN.from_stats(CMVNStats(torch.full((4,), 2.0), torch.full((4,), 4.0), 10))
    x = torch.full((2, 3, 4), 6.0, dtype=torch.bfloat16)
    out = cmvn(x)
    assert out.dtype == torch.bfloat16
    assert torch.all(out == 1.0)


def test_state_dict_round_trip():
    stats = CMVNStats(torch.randn(8), torch.rand(8) + 0.5, 100)
    fresh = GlobalCMVN(8)
    fresh.load_state_dict(GlobalCMVN.from_stats(stats).state_dict())
    torch.testing.assert_close(fresh.mean, stats.mean)
    torch.testing.assert_close(fresh.std, stats.std)


def test_stats_save_load_round_trip(tmp_path):
    stats = CMVNStats(torch.randn(80), torch.rand(80) + 0.1, 12345)
    path = tmp_path / "sub" / "cmvn.json"
    stats.save(path)
    loaded = CMVNStats.load(path)
    torch.testing.assert_close(loaded.mean, stats.mean)
    torch.testing.assert_close(loaded.std, stats.std)
    assert loaded.count == 12345
    assert [p.name for p in path.parent.iterdir()] == ["cmvn.json"]  # no temporary left behind


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        json.dumps({"mean": [0.0], "std": [1.0]}),
        json.dumps({"mean": [0.0, 1.0], "std": [1.0], "count": 3}),
        json.dumps({"mean": [0.0], "std": [0.0], "count": 3}),
        json.dumps({"mean": ["a"], "std": [1.0], "count": 3}),
        json.dumps({"mean": [0.0], "std": [1.0], "count": 0}),
        json.dumps({"mean": [], "std": [], "count": 3}),
    ],
)
def test_bad_stats_file_raises_config_error_naming_file(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match="bad.json"):
        CMVNStats.load(path)


def test_missing_stats_file(tmp_path):
    with pytest.raises(ConfigError, match="missing.json"):
        CMVNStats.load(tmp_path / "missing.json")


@pytest.fixture
def tiny_manifest(tmp_path, chirp_noise):
    rate = 16000
    lines = []
    for i, seconds in enumerate([0.3, 0.2, 0.25]):
        wave = chirp_noise(rate, seconds, seed=i) * (0.5 + i)
        path = tmp_path / "wavs" / f"utt{i}.wav"
        path.parent.mkdir(exist_ok=True)
        save(path, wave, rate)
        record = {"id": f"utt{i}", "audio": str(path), "duration": seconds, "sample_rate": rate, "text": "hi"}
        lines.append(json.dumps(record))
    manifest = tmp_path / "train.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_compute_cmvn_stats_over_manifest(tiny_manifest):
    from speech.audio import load

    logmel = LogMel(LogMelConfig.asr())
    stats = compute_cmvn_stats(tiny_manifest, logmel)
    utterances = read_manifest(tiny_manifest)
    features = torch.cat([logmel(load(u.audio, 16000)[None]).features[0] for u in utterances])  # (N, F)
    expected = features.double()
    assert stats.count == features.shape[0] == 31 + 21 + 26
    torch.testing.assert_close(stats.mean, expected.mean(0).float(), atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(stats.std, expected.std(0, unbiased=False).float(), atol=1e-4, rtol=1e-4)
    normalized = GlobalCMVN.from_stats(stats)(features[None])[0]
    assert normalized.mean(0).abs().max() < 1e-3
    assert (normalized.std(0, unbiased=False) - 1).abs().max() < 1e-3


def test_compute_cmvn_stats_max_utterances_and_utterance_list(tiny_manifest):
    logmel = LogMel(LogMelConfig.asr())
    utterances = read_manifest(tiny_manifest)
    first = compute_cmvn_stats(utterances, logmel, max_utterances=1)
    assert first.count == 31
    with pytest.raises(ConfigError):
        compute_cmvn_stats([], logmel)
