"""The step-loop cells: the same values and gradients as ``F.linear`` / ``nn.LSTMCell`` step by step."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from speech.attention.additive import sliding_conv
from speech.models.recurrence import StepWeight, fused_lstm_weights, lstm_bias, lstm_cell
from speech.models.tacotron2 import Tacotron2
from speech.models.tacotron2_decoder import DecoderOutput
from tests.models.test_tacotron2 import TINY, batch


def _loop(linear, h0, steps=5):
    """A recurrence whose every step reads the previous one through ``linear``."""
    h, outs = h0, []
    for _ in range(steps):
        h = torch.tanh(linear(h))
        outs.append(h)
    return torch.stack(outs).square().sum()


@pytest.mark.parametrize("bias", [False, True])
def test_step_weight_gives_the_values_and_gradients_of_f_linear(bias):
    torch.manual_seed(0)
    weight = torch.randn(6, 6, requires_grad=True)
    b = torch.randn(6, requires_grad=True) if bias else None
    h0 = torch.randn(3, 6, requires_grad=True)
    grads = []
    for make in (lambda: lambda x: F.linear(x, weight, b), lambda: StepWeight(weight, b)):
        weight.grad = h0.grad = None
        if b is not None:
            b.grad = None
        loss = _loop(make(), h0)
        loss.backward()
        grads.append(
            (loss.detach(), weight.grad.clone(), h0.grad.clone(), None if b is None else b.grad.clone())
        )
    (l1, w1, h1, b1), (l2, w2, h2, b2) = grads
    assert torch.allclose(l1, l2, rtol=1e-6)
    assert torch.allclose(w1, w2, atol=1e-5) and torch.allclose(h1, h2, atol=1e-5)
    assert w1.abs().max() > 0.1  # a real gradient, not zeros on both sides
    if bias:
        assert torch.allclose(b1, b2, atol=1e-5)


def test_step_weight_gradient_is_recomputed_on_a_second_backward():
    torch.manual_seed(0)
    weight, h0 = torch.randn(4, 4, requires_grad=True), torch.randn(2, 4)
    loss = _loop(StepWeight(weight), h0)
    (first,) = torch.autograd.grad(loss, weight, retain_graph=True)
    (second,) = torch.autograd.grad(loss, weight)
    (reference,) = torch.autograd.grad(_loop(lambda x: F.linear(x, weight), h0), weight)
    assert torch.allclose(first, reference, atol=1e-5) and torch.allclose(second, reference, atol=1e-5)


def test_step_weight_also_used_outside_the_loop_sums_both_gradients():
    torch.manual_seed(0)
    weight, h0 = torch.randn(4, 4, requires_grad=True), torch.randn(2, 4)
    step = StepWeight(weight)
    loss = _loop(step, h0) + step.weight_t.sum()  # the transposed weight read directly too
    loss.backward()
    ours = weight.grad.clone()
    weight.grad = None
    (_loop(lambda x: F.linear(x, weight), h0) + weight.sum()).backward()
    assert torch.allclose(ours, weight.grad, atol=1e-5)


def test_step_weight_without_gradients_is_a_plain_linear():
    torch.manual_seed(0)
    weight, b, x = torch.randn(5, 3), torch.randn(5), torch.randn(2, 3)
    with torch.no_grad():
        assert torch.allclose(StepWeight(weight.requires_grad_(), b)(x), F.linear(x, weight, b), atol=1e-6)
    assert not StepWeight(weight.detach()).deferred


def test_step_weight_under_bf16_autocast_matches_f_linear_under_autocast():
    torch.manual_seed(0)
    weight, h0 = torch.randn(8, 8, requires_grad=True), torch.randn(4, 8)
    grads = []
    for make in (lambda: lambda x: F.linear(x, weight), lambda: StepWeight(weight)):
        weight.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = _loop(make(), h0)
        loss.float().backward()
        grads.append(weight.grad.clone())
    assert grads[1].dtype == torch.float32
    assert torch.allclose(grads[0], grads[1], rtol=0.05, atol=0.05)


def test_lstm_cell_equals_torch_lstm_cell():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(5, 7)
    x, h, c = torch.randn(3, 5), torch.randn(3, 7), torch.randn(3, 7)
    step, hoisted = fused_lstm_weights(cell, hoisted=2)
    gates = F.linear(x[:, :2], hoisted) + F.linear(torch.cat([x[:, 2:], h], dim=-1), step) + lstm_bias(cell)
    ours, theirs = lstm_cell(gates, c), cell(x, (h, c))
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(ours, theirs, strict=True))
    assert lstm_bias(torch.nn.LSTMCell(5, 7, bias=False)) is None


def test_sliding_conv_equals_conv1d():
    torch.manual_seed(0)
    x, kernel = torch.randn(3, 2, 17), torch.randn(6, 2, 5)
    expected = F.conv1d(x, kernel, padding=2).transpose(1, 2)
    assert torch.allclose(sliding_conv(x, kernel), expected, atol=1e-5)


def _stepped(decoder, memory, mask, mels):
    """The teacher-forced decoder pass written with ``Decoder.step`` (``nn.LSTMCell``) at every step."""
    B, _, F_ = mels.shape
    inputs = torch.cat([mels.new_zeros(B, 1, F_), mels[:, decoder.r - 1 :: decoder.r][:, :-1]], dim=1)
    prenet_out, state = decoder.prenet(inputs), decoder.init_state(memory, mask)
    outs, weights = [], []
    for n in range(prenet_out.shape[1]):
        o, w, state = decoder.step(prenet_out[:, n], memory, mask, state)
        outs.append(o)
        weights.append(w)
    frames, stops = decoder.project(torch.stack(outs, dim=1))
    return DecoderOutput(frames, stops, torch.stack(weights, dim=1))


def test_teacher_forced_decoder_gradients_equal_stepping_the_cells():
    """The fast training pass gives every parameter the gradient of the step-by-step reference."""
    model = Tacotron2(dataclasses.replace(TINY, rnn_dropout=0.0, prenet_dropout=0.0)).train()
    tokens, tl, mels, ml = batch()
    mels = mels[:, :22]  # a multiple of r = 2
    results = []
    for run in (lambda d, m, k: d(m, k, mels), lambda d, m, k: _stepped(d, m, k, mels)):
        model.zero_grad()
        torch.manual_seed(1)  # the encoder's dropout draws the same masks
        memory, mask = model.encode(tokens, tl)
        out = run(model.decoder, memory, mask)
        (
            out.mel.square().mean() + out.stop_logits.sigmoid().mean() + out.attention.max(-1).values.mean()
        ).backward()
        results.append((out, {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}))
    (fast, fast_grads), (ref, ref_grads) = results
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(fast, ref, strict=True))
    assert fast_grads.keys() == ref_grads.keys()
    assert {"decoder.attention_rnn.weight_ih", "decoder.decoder_rnn.weight_hh"} <= fast_grads.keys()
    for name, grad in ref_grads.items():
        assert torch.allclose(fast_grads[name], grad, atol=1e-5, rtol=1e-4), name


def test_synthesis_with_fused_cells_equals_synthesis_with_the_reference_step(monkeypatch):
    torch.manual_seed(0)
    model = Tacotron2(TINY).eval()
    tokens, tl, _, _ = batch()
    fast = model.synthesize(tokens, tl)
    monkeypatch.setattr(
        type(model.decoder), "_fused_step", lambda self, p, m, k, s, a, cells: self.step(p, m, k, s, a)
    )
    reference = model.synthesize(tokens, tl)
    assert torch.equal(fast.mel_lengths, reference.mel_lengths)
    assert torch.allclose(fast.mel, reference.mel, atol=1e-5)


def _decoder_inputs(model, tokens, tl):
    memory, mask = model.encode(tokens, tl)
    return memory, mask, torch.tensor([14, 9, 11]), [torch.Generator().manual_seed(i) for i in range(3)]


@pytest.mark.parametrize("threshold", [0.5, 1.0])
def test_checking_for_the_end_every_few_steps_gives_the_same_synthesis(threshold):
    """The GPU schedule (one host sync every k steps) runs past the end and cuts back: same result."""
    torch.manual_seed(0)
    model = Tacotron2(TINY).eval()
    model.decoder.stop_proj.bias.data.fill_(3.0)  # items stop once their attention nears the end
    model.decoder.forget_inference_weights()
    tokens, tl, _, _ = batch()
    results = []
    with torch.no_grad():
        for every in (1, 3, 8, 100):
            memory, mask, limits, generators = _decoder_inputs(model, tokens, tl)
            results.append(
                model.decoder.infer(memory, mask, limits, generators, threshold, check_every=every)
            )
    (out, steps, stopped), *others = results
    assert steps.tolist() != [14, 9, 11] or threshold == 1.0  # the stop token is exercised at 0.5
    for other_out, other_steps, other_stopped in others:
        assert torch.equal(other_steps, steps) and torch.equal(other_stopped, stopped)
        assert all(torch.equal(a, b) for a, b in zip(other_out, out, strict=True))
    assert out.mel.shape[1] == int(steps.max()) * TINY.reduction_factor


def test_kept_inference_weights_follow_parameter_updates():
    torch.manual_seed(0)
    model = Tacotron2(TINY).eval()
    tokens, tl, _, _ = batch()
    before = model.synthesize(tokens, tl).mel
    with torch.no_grad():  # an in-place update, as an optimiser step or load_state_dict makes
        model.decoder.decoder_rnn.weight_hh.mul_(1.5)
        model.decoder.frame_proj.bias.add_(0.5)
    after = model.synthesize(tokens, tl).mel
    fresh = Tacotron2(TINY).eval()
    fresh.load_state_dict(model.state_dict())
    assert not torch.allclose(before[:, :4], after[:, :4])
    assert torch.equal(after, fresh.synthesize(tokens, tl).mel)
