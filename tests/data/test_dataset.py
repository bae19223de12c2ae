import torch
from torch.utils.data import DataLoader

from speech.data import Collate, LengthBucketSampler, SpeechDataset, read_manifest
from speech.text import CharTokenizer


def test_dataset_yields_waveforms_and_ids(make_manifest):
    utts = read_manifest(make_manifest(3))
    tok = CharTokenizer.build([u.text for u in utts])
    ttok = CharTokenizer.build([u.translation for u in utts])
    ds = SpeechDataset(utts, 16000, text_tokenizer=tok, translation_tokenizer=ttok)
    sample = ds[1]
    assert sample.id == "u1"
    assert sample.waveform.dtype == torch.float32 and sample.waveform.shape == (int(0.3 * 16000),)
    assert tok.decode(sample.text.tolist()) == utts[1].text
    assert ttok.decode(sample.translation.tolist()) == "énoncé 1"


def test_dataset_resamples(make_manifest):
    utts = read_manifest(make_manifest(1))
    sample = SpeechDataset(utts, 8000)[0]
    assert sample.waveform.shape == (int(0.2 * 8000),)
    assert sample.text is None


def test_collate_pads_and_reports_lengths_through_a_loader(make_manifest):
    utts = read_manifest(make_manifest(4))
    tok = CharTokenizer.build([u.text for u in utts])
    ds = SpeechDataset(utts, 16000, text_tokenizer=tok, text_transform=str.upper)
    sampler = LengthBucketSampler(ds.durations(), max_frames=1.0, shuffle=False)
    loader = DataLoader(ds, batch_sampler=sampler, collate_fn=Collate(tok.pad_id))
    seen = []
    for batch in loader:
        assert batch.waveforms.shape == (len(batch), int(batch.waveform_lengths.max()))
        for i, n in enumerate(batch.waveform_lengths.tolist()):
            assert torch.all(batch.waveforms[i, n:] == 0)
        assert batch.text.shape[1] == int(batch.text_lengths.max())
        for i, n in enumerate(batch.text_lengths.tolist()):
            assert torch.all(batch.text[i, n:] == tok.pad_id)
        seen.extend(batch.ids)
        moved = batch.to("cpu")
        assert moved.ids == batch.ids and torch.equal(moved.waveforms, batch.waveforms)
    assert sorted(seen) == ["u0", "u1", "u2", "u3"]
