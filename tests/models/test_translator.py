import pytest
import torch

from speech.decoding import SearchConfig
from speech.models.translator import SpeechTranslator, TranslatorConfig
from tests.models.conftest import tiny_speller

V, V_SRC = 12, 9  # target and source vocabularies: pad 0, bos 1, eos 2, unk 3, tokens 4..


def tiny_config(ctc_weight=0.3, source_vocab_size=V_SRC, heads=1):
    listener = dict(input_dim=8, hidden_size=16, n_layers=2, n_pyramid=2, dropout=0.0)
    speller = tiny_speller(heads)
    return TranslatorConfig(
        vocab_size=V,
        source_vocab_size=source_vocab_size,
        listener=listener,
        speller=speller,
        ctc_weight=ctc_weight,
        label_smoothing=0.0,
    )


def padded(lengths, vocab, generator):
    ids = torch.randint(4, vocab, (len(lengths), max(lengths)), generator=generator)
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    return ids * mask, torch.tensor(lengths)


def batch(lengths=(40, 29, 17), target_lengths=(5, 3, 2), source_lengths=(4, 3, 2), seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(len(lengths), max(lengths), 8, generator=g)
    feats = feats * (torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None])[..., None]
    targets, target_lens = padded(target_lengths, V, g)
    source, source_lens = padded(source_lengths, V_SRC, g)
    return feats, torch.tensor(lengths), targets, target_lens, source, source_lens


@pytest.mark.parametrize("heads", [1, 2])
def test_multitask_loss_and_every_parameter_gets_a_gradient(heads):
    torch.manual_seed(0)
    model = SpeechTranslator(tiny_config(ctc_weight=0.4, heads=heads))
    assert model.ctc.proj.out_features == V_SRC and model.speller.vocab_size == V
    feats, lengths, targets, target_lengths, source, source_lengths = batch()
    out = model(feats, lengths, targets, target_lengths, source, source_lengths, sampling_probability=0.5)
    assert out.attention.shape == (3, 6, 10)  # U + 1 steps x 40 // 4 frames
    assert out.ctc_loss > 0 and out.attention_loss > 0
    torch.testing.assert_close(out.loss, 0.6 * out.attention_loss + 0.4 * out.ctc_loss)
    out.loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("ctc_weight, source_vocab_size", [(0.0, V_SRC), (0.3, 0)])
def test_no_ctc_head_without_weight_or_source_vocabulary(ctc_weight, source_vocab_size):
    model = SpeechTranslator(tiny_config(ctc_weight, source_vocab_size))
    assert model.ctc is None
    feats, lengths, targets, target_lengths, source, source_lengths = batch()
    out = model(feats, lengths, targets, target_lengths, source, source_lengths)
    assert out.ctc_loss == 0 and torch.equal(out.loss, out.attention_loss)


def test_without_a_transcript_only_the_attention_loss_counts():
    torch.manual_seed(0)
    model = SpeechTranslator(tiny_config(ctc_weight=0.5)).eval()
    feats, lengths, targets, target_lengths, source, source_lengths = batch()
    alone = model(feats, lengths, targets, target_lengths)
    joint = model(feats, lengths, targets, target_lengths, source, source_lengths)
    assert torch.equal(alone.loss, alone.attention_loss) and alone.ctc_loss == 0
    torch.testing.assert_close(alone.attention_loss, joint.attention_loss)
    assert not torch.allclose(joint.loss, joint.attention_loss)


def test_padding_invariance_and_batch_of_one():
    torch.manual_seed(0)
    model = SpeechTranslator(tiny_config()).eval()
    feats, lengths, targets, target_lengths, source, source_lengths = batch()
    hyps = model.decode(feats, lengths, SearchConfig(beam_size=3, max_length_ratio=1.0))
    for i in range(3):
        alone = model.decode(feats[i : i + 1, : lengths[i]], lengths[i : i + 1], SearchConfig(beam_size=3))
        assert alone[0][0].tokens == hyps[i][0].tokens
        assert alone[0][0].score == pytest.approx(hyps[i][0].score, abs=1e-4)


def test_bad_configs():
    with pytest.raises(ValueError, match="ctc_weight"):
        tiny_config(ctc_weight=1.0)
    with pytest.raises(ValueError, match="vocab_size"):
        SpeechTranslator(TranslatorConfig(vocab_size=3))


def test_overfit_a_handful_of_utterances():
    torch.manual_seed(0)
    model = SpeechTranslator(tiny_config(ctc_weight=0.3))
    feats, lengths, targets, target_lengths, source, source_lengths = batch(
        lengths=(40, 36, 32, 28), target_lengths=(5, 4, 3, 4), source_lengths=(3, 4, 2, 3)
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        out = model(feats, lengths, targets, target_lengths, source, source_lengths)
        out.loss.backward()
        opt.step()
    model.eval()
    assert out.attention_loss.item() < 0.05 and out.ctc_loss.item() < 0.5
    refs = [targets[i, : target_lengths[i]].tolist() for i in range(4)]
    for beam in (1, 4):
        hyps = model.decode(feats, lengths, SearchConfig(beam_size=beam, max_length_ratio=1.0))
        assert [h[0].tokens for h in hyps] == refs
