import pytest
import torch

from speech.decoding import SearchConfig
from speech.models.las import LASConfig, ListenAttendSpell
from speech.models.listener import Listener, ListenerConfig, ListenerOutput
from speech.models.lm import RNNLM, LMConfig
from tests.models.conftest import tiny_speller

V = 10  # pad 0, bos 1, eos 2, unk 3, tokens 4..9


def tiny_config(ctc_weight=0.3, heads=1, **listener):
    lc = dict(input_dim=8, hidden_size=16, n_layers=2, n_pyramid=2, dropout=0.0) | listener
    speller = tiny_speller(heads)
    return LASConfig(vocab_size=V, listener=lc, speller=speller, ctc_weight=ctc_weight, label_smoothing=0.0)


def batch(lengths=(40, 29, 17), target_lengths=(5, 3, 2), seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(len(lengths), max(lengths), 8, generator=g)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    feats = feats * mask[..., None]
    targets = torch.randint(4, V, (len(lengths), max(target_lengths)), generator=g)
    tmask = torch.arange(max(target_lengths))[None, :] < torch.tensor(target_lengths)[:, None]
    return feats, torch.tensor(lengths), targets * tmask, torch.tensor(target_lengths)


@pytest.mark.parametrize("conv", [0, 4])
@pytest.mark.parametrize("n_pyramid", [2, 3])
def test_listener_padding_invariance_and_reduction(conv, n_pyramid):
    torch.manual_seed(0)
    listener = Listener(
        ListenerConfig(
            input_dim=8, hidden_size=6, n_layers=3, n_pyramid=n_pyramid, conv_channels=conv, dropout=0.0
        )
    ).eval()
    feats, lengths, _, _ = batch(lengths=(43, 30, 17))
    out = listener(feats, lengths)
    assert out.memory_lengths.tolist() == [n // 2**n_pyramid for n in (43, 30, 17)]
    for i, n in enumerate((43, 30, 17)):
        alone = listener(feats[i : i + 1, :n], lengths[i : i + 1])
        m = int(out.memory_lengths[i])
        torch.testing.assert_close(out.memory[i, :m], alone.memory[0, :m], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("heads", [1, 2])
def test_loss_shapes_and_every_parameter_gets_a_gradient(heads):
    torch.manual_seed(0)
    model = ListenAttendSpell(tiny_config(heads=heads, conv_channels=4))
    feats, lengths, targets, target_lengths = batch()
    out = model(feats, lengths, targets, target_lengths, sampling_probability=0.5)
    assert out.attention.shape == (3, 6, 10)  # U + 1 steps x 40 // 4 frames
    assert torch.isfinite(out.loss) and out.ctc_loss > 0 and out.attention_loss > 0
    out.loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_no_ctc_head_when_weight_is_zero():
    model = ListenAttendSpell(tiny_config(ctc_weight=0.0))
    assert model.ctc is None
    feats, lengths, targets, target_lengths = batch()
    out = model(feats, lengths, targets, target_lengths)
    assert out.ctc_loss == 0 and torch.allclose(out.loss, out.attention_loss)


@pytest.mark.parametrize("heads", [1, 2])
def test_overfit_a_handful_of_utterances_to_zero_errors(heads):
    torch.manual_seed(0)
    model = ListenAttendSpell(tiny_config(ctc_weight=0.3, heads=heads))
    feats, lengths, targets, target_lengths = batch(lengths=(40, 36, 32, 28), target_lengths=(5, 4, 3, 4))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        loss = model(feats, lengths, targets, target_lengths).loss
        loss.backward()
        opt.step()
    model.eval()
    assert loss.item() < 0.05
    refs = [targets[i, : target_lengths[i]].tolist() for i in range(4)]
    for beam in (1, 4):
        hyps = model.decode(feats, lengths, SearchConfig(beam_size=beam, max_length_ratio=1.0))
        assert [h[0].tokens for h in hyps] == refs
    hyps = model.decode(feats, lengths, SearchConfig(beam_size=4), ctc_weight=0.0)
    assert [h[0].tokens for h in hyps] == refs


@pytest.mark.parametrize(
    ("ctc_weight", "with_lm", "heads"), [(0.0, False, 1), (0.5, False, 1), (0.5, True, 1), (0.5, False, 2)]
)
def test_batched_search_equals_one_utterance_at_a_time(ctc_weight, with_lm, heads):
    torch.manual_seed(0)
    model = ListenAttendSpell(tiny_config(ctc_weight=0.3, heads=heads)).eval()
    lm = RNNLM(LMConfig(vocab_size=V, embed_dim=8, hidden_size=16)).eval() if with_lm else None
    feats, lengths, _, _ = batch(lengths=(40, 29, 17, 36), target_lengths=(5, 3, 2, 4))
    search = SearchConfig(beam_size=4, max_length_ratio=1.0, min_length_ratio=0.3, nbest=2)
    with torch.no_grad():
        enc = model.listener(feats, lengths)
        batched = model.search(enc, search, ctc_weight=ctc_weight, lm=lm, lm_weight=0.3)
        for i in range(4):
            m, c = int(enc.memory_lengths[i]), int(enc.ctc_lengths[i])
            alone = ListenerOutput(
                enc.memory[i : i + 1, :m],
                enc.memory_lengths[i : i + 1],
                enc.ctc_input[i : i + 1, :c],
                enc.ctc_lengths[i : i + 1],
            )
            single = model.search(alone, search, ctc_weight=ctc_weight, lm=lm, lm_weight=0.3)[0]
            assert [h.tokens for h in batched[i]] == [h.tokens for h in single]
            assert len(batched[i][0].tokens) >= 2
            for a, b in zip(batched[i], single, strict=True):
                assert a.score == pytest.approx(b.score, abs=1e-4)


def test_attention_heads_must_divide_the_attention_size():
    with pytest.raises(ValueError, match="multiple of speller.attention_heads"):
        tiny_config(heads=3)
