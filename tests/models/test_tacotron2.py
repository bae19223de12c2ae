import dataclasses

import pytest
import torch

from speech.attention import guided_attention_loss
from speech.models.tacotron2 import (
    InferenceConfig,
    Tacotron2,
    Tacotron2Config,
    Tacotron2LossConfig,
    tacotron2_loss,
)

TINY = Tacotron2Config(
    n_symbols=20,
    n_mels=12,
    reduction_factor=2,
    embedding_dim=16,
    encoder_dim=16,
    prenet_dims=[16, 16],
    attention_rnn_dim=32,
    decoder_rnn_dim=32,
    attention_dim=16,
    location_filters=4,
    location_kernel=5,
    postnet_channels=16,
)


def batch(items=3, symbols=9, frames=23, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(4, 20, (items, symbols), generator=g)
    token_lengths = torch.tensor([symbols, symbols - 3, 4][:items])
    mels = torch.randn(items, frames, 12, generator=g)
    mel_lengths = torch.tensor([frames, frames - 5, 9][:items])
    for b in range(items):
        tokens[b, token_lengths[b] :] = 0
        mels[b, mel_lengths[b] :] = 0
    return tokens, token_lengths, mels, mel_lengths


@pytest.mark.parametrize("r", [1, 2, 3])
def test_shapes_for_every_reduction_factor(r):
    model = Tacotron2(dataclasses.replace(TINY, reduction_factor=r))
    tokens, tl, mels, ml = batch()
    out = model(tokens, tl, mels, ml)
    steps = -(-23 // r)
    assert out.mel.shape == out.mel_postnet.shape == (3, steps * r, 12)
    assert out.stop_logits.shape == (3, steps)
    assert out.attention.shape == (3, steps, 9)
    assert out.step_lengths.tolist() == [-(-n // r) for n in ml.tolist()]
    # attention rows sum to one over each item's valid symbols and are zero on padding
    assert torch.allclose(out.attention.sum(-1), torch.ones(3, steps), atol=1e-5)
    assert out.attention[1, :, 6:].abs().max() == 0


def test_every_parameter_gets_a_gradient():
    model = Tacotron2(dataclasses.replace(TINY, n_speakers=3))
    tokens, tl, mels, ml = batch()
    out = model(tokens, tl, mels, ml, speakers=torch.tensor([0, 1, 2]))
    tacotron2_loss(out, mels, ml, tl, Tacotron2LossConfig()).loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_padding_does_not_change_an_item_in_training_mode_outputs():
    model = Tacotron2(TINY).eval()  # eval: no dropout except the prenet's, which we switch off
    model.decoder.prenet.dropout = 0.0
    tokens, tl, mels, ml = batch()
    out = model(tokens, tl, mels, ml)
    alone = model(tokens[2:, :4], tl[2:], mels[2:, :9], ml[2:])
    n = int(alone.step_lengths[0])
    assert torch.allclose(out.mel_postnet[2, :9], alone.mel_postnet[0, :9], atol=1e-5)
    assert torch.allclose(out.attention[2, :n, :4], alone.attention[0, :n], atol=1e-5)


def test_stop_targets_and_loss_parts():
    model = Tacotron2(TINY)
    tokens, tl, mels, ml = batch()
    out = model(tokens, tl, mels, ml)
    cfg = Tacotron2LossConfig(guided_weight=2.0, guided_decay=0.5, guided_min_weight=0.25)
    loss = tacotron2_loss(out, mels, ml, tl, cfg, step=1)
    expected_guided = guided_attention_loss(out.attention, tl, out.step_lengths, cfg.guided_sigma)
    assert torch.allclose(loss.guided_loss, expected_guided)
    assert (
        cfg.guided_weight_at(0) == 2.0 and cfg.guided_weight_at(1) == 1.0 and cfg.guided_weight_at(10) == 0.25
    )
    total = loss.mel_loss + loss.postnet_loss + loss.stop_loss + 1.0 * loss.guided_loss
    assert torch.allclose(loss.loss, total)
    # a stop logit that fires exactly at each item's last step (and never before) has a low loss
    perfect = out.stop_logits.detach().clone().fill_(-20.0)
    for b, n in enumerate(out.step_lengths.tolist()):
        perfect[b, n - 1] = 20.0
    good = tacotron2_loss(out._replace(stop_logits=perfect), mels, ml, tl, cfg).stop_loss
    late = perfect.clone().fill_(-20.0)
    bad = tacotron2_loss(out._replace(stop_logits=late), mels, ml, tl, cfg).stop_loss
    assert good < 1e-6 and bad > 10


def test_guided_loss_off_and_mel_loss_kinds():
    model = Tacotron2(TINY)
    tokens, tl, mels, ml = batch()
    out = model(tokens, tl, mels, ml)
    off = tacotron2_loss(out, mels, ml, tl, Tacotron2LossConfig(guided_weight=0.0))
    assert off.guided_loss == 0
    l1 = tacotron2_loss(out, mels, ml, tl, Tacotron2LossConfig(mel_loss="l1")).mel_loss
    mse = tacotron2_loss(out, mels, ml, tl, Tacotron2LossConfig(mel_loss="mse")).mel_loss
    both = tacotron2_loss(out, mels, ml, tl, Tacotron2LossConfig(mel_loss="l1+mse")).mel_loss
    assert torch.allclose(both, l1 + mse)
    with pytest.raises(ValueError, match="mel_loss"):
        Tacotron2LossConfig(mel_loss="huber")


def _force_stop(model: Tacotron2, logit: float) -> None:
    with torch.no_grad():
        model.decoder.stop_proj.weight.zero_()
        model.decoder.stop_proj.bias.fill_(logit)


def test_items_stop_on_their_own_or_at_their_limit():
    model = Tacotron2(TINY).eval()
    tokens, tl, _, _ = batch()
    _force_stop(model, -30.0)  # never stops: every item ends at its own frame limit
    cfg = InferenceConfig(max_frames_per_symbol=4, min_max_frames=1)
    out = model.synthesize(tokens, tl, config=cfg)
    assert not out.stopped.any()
    assert out.mel_lengths.tolist() == [-(-4 * n // 2) * 2 for n in tl.tolist()]
    _force_stop(model, 30.0)  # always wants to stop: without the end constraint, after one step
    out = model.synthesize(tokens, tl, config=dataclasses.replace(cfg, stop_near_end=0))
    assert out.stopped.all() and out.steps.tolist() == [1, 1, 1]


def test_batched_synthesis_equals_per_item_synthesis():
    torch.manual_seed(0)
    model = Tacotron2(TINY).eval()
    tokens, tl, _, _ = batch()
    cfg = InferenceConfig(max_frames_per_symbol=6, min_max_frames=1, seed=5)
    together = model.synthesize(tokens, tl, config=cfg)
    for i in range(3):
        alone = model.synthesize(
            tokens[i : i + 1, : tl[i]], tl[i : i + 1], config=dataclasses.replace(cfg, seed=5 + i)
        )
        n = int(alone.mel_lengths[0])
        assert int(together.mel_lengths[i]) == n
        assert torch.allclose(together.mel[i, :n], alone.mel[0], atol=1e-4)
        assert together.mel[i, n:].abs().sum() == 0  # nothing past an item's own end


def test_synthesis_keeps_attention_inside_the_monotonic_window():
    """Every step attends only within [peak - 1, peak + 3] of the step before (the default window)."""
    torch.manual_seed(0)
    model = Tacotron2(TINY).eval()
    tokens, tl, _, _ = batch(items=1, symbols=16)
    _force_stop(model, -30.0)
    cfg = InferenceConfig(max_frames_per_symbol=2, min_max_frames=1)
    out = model.synthesize(tokens, tl, config=cfg)
    weights = out.attention[0]  # (steps, symbols)
    peaks = torch.cat([torch.zeros(1, dtype=torch.long), weights[:-1].argmax(-1)])  # before each step
    positions = torch.arange(weights.shape[1])
    outside = (positions[None] < peaks[:, None] - 1) | (positions[None] > peaks[:, None] + 3)
    assert outside.any() and torch.all(weights[outside] == 0)
    free = model.synthesize(tokens, tl, config=dataclasses.replace(cfg, window_backward=-1)).attention[0]
    assert torch.any(free[outside[: free.shape[0]]] > 0)  # without the window, the same steps look further


def test_prenet_dropout_stays_on_at_inference():
    model = Tacotron2(TINY).eval()
    tokens, tl, _, _ = batch(items=1)
    cfg = InferenceConfig(max_frames_per_symbol=3, min_max_frames=1, stop_near_end=0)
    _force_stop(model, -30.0)
    a = model.synthesize(tokens, tl, config=cfg).mel
    b = model.synthesize(tokens, tl, config=dataclasses.replace(cfg, seed=1)).mel
    c = model.synthesize(tokens, tl, config=cfg).mel
    assert torch.equal(a, c) and not torch.allclose(a, b)


def test_multi_speaker_model_needs_speakers():
    model = Tacotron2(dataclasses.replace(TINY, n_speakers=2))
    tokens, tl, mels, ml = batch()
    with pytest.raises(ValueError, match="speaker"):
        model(tokens, tl, mels, ml)


def test_bad_configs():
    for bad in ({"reduction_factor": 6}, {"encoder_dim": 15}, {"postnet_kernel": 4}, {"prenet_dims": []}):
        with pytest.raises(ValueError):
            dataclasses.replace(TINY, **bad)


def test_overfits_a_few_utterances():
    torch.manual_seed(0)
    model = Tacotron2(dataclasses.replace(TINY, encoder_dropout=0.0, postnet_dropout=0.0, rnn_dropout=0.0))
    tokens, tl, _, _ = batch(symbols=6)
    tl = torch.tensor([6, 5, 4])
    # targets follow the text: each symbol holds a fixed pattern for 3 frames
    patterns = torch.randn(20, 12, generator=torch.Generator().manual_seed(1))
    mels = patterns[tokens].repeat_interleave(3, dim=1)  # (B, 3 S, F)
    ml = tl * 3
    for b in range(3):
        mels[b, ml[b] :] = 0
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    cfg = Tacotron2LossConfig()
    first = None
    for _ in range(250):
        loss = tacotron2_loss(model(tokens, tl, mels, ml), mels, ml, tl, cfg)
        opt.zero_grad()
        loss.loss.backward()
        opt.step()
        first = first if first is not None else loss.postnet_loss.item()
    assert loss.postnet_loss.item() < 0.2 * first
    assert loss.stop_loss.item() < 0.2


def test_teacher_forced_pass_equals_stepping_the_cell():
    """The pass that computes the prenet's gate share ahead equals ``nn.LSTMCell`` step by step."""
    torch.manual_seed(0)
    model = Tacotron2(TINY).eval()
    model.decoder.prenet.dropout = 0.0
    tokens, tl, mels, ml = batch()
    out = model(tokens, tl, mels, ml)
    decoder = model.decoder
    memory, mask = model.encode(tokens, tl)
    padded = torch.nn.functional.pad(mels, (0, 0, 0, 1))  # 23 -> 24 frames, a multiple of r = 2
    inputs = torch.cat([padded.new_zeros(3, 1, 12), padded[:, 1::2][:, :-1]], dim=1)
    state, outs = decoder.init_state(memory, mask), []
    for n in range(inputs.shape[1]):
        o, _, state = decoder.step(decoder.prenet(inputs[:, n]), memory, mask, state)
        outs.append(o)
    frames, stops = decoder.project(torch.stack(outs, dim=1))
    assert torch.allclose(out.mel, frames, atol=1e-5) and torch.allclose(out.stop_logits, stops, atol=1e-5)
