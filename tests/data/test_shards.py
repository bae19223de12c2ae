"""Tar shards: ``speech prepare shard`` and the ShardDataset that streams them (split, shuffle, buckets)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DataLoader

from speech.cli.main import main
from speech.data import (
    Collate,
    ShardDataset,
    SpeechDataset,
    read_manifest,
    read_shard_list,
    read_shard_utterances,
    write_shards,
)
from speech.errors import SpeechError
from speech.tasks.common import BucketedTask, position_loader
from speech.text import CharTokenizer
from tests.conftest import write_tone

RATE = 8000


def _corpus(folder: Path, n: int = 12, ids: list[str] | None = None) -> Path:
    """n short tones of 0.10 ... s (a wav and a flac among them) and their manifest."""
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        seconds = 0.1 + 0.05 * (i % 7)
        ext = "flac" if i % 3 == 0 else "wav"
        write_tone(folder / "audio" / f"a{i}.{ext}", seconds, RATE, freq=150 + 40 * i)
        utt_id = ids[i] if ids else f"spk{i % 2}.utt{i:02d}"  # a dot in the id, on purpose
        entry = {"id": utt_id, "audio": f"audio/a{i}.{ext}", "duration": seconds, "sample_rate": RATE}
        lines.append({**entry, "text": f"number {i}", "translation": f"nombre {i}"})
    manifest = folder / "train.jsonl"
    manifest.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return manifest


@pytest.fixture
def corpus(tmp_path):
    manifest = _corpus(tmp_path)
    write_shards(manifest, tmp_path / "shards", shard_size=3)
    return manifest, tmp_path / "shards"


def _items(manifest: Path) -> SpeechDataset:
    utts = read_manifest(manifest)
    tok = CharTokenizer.build([u.text for u in utts])
    return SpeechDataset(
        utts,
        RATE,
        text_tokenizer=tok,
        translation_tokenizer=CharTokenizer.build([u.translation for u in utts]),
    )


def _ids(dataset, epoch: int = 0, skip: int = 0) -> list[list[str]]:
    dataset.set_position(epoch, skip)
    return [[s.id for s in batch] for batch in dataset]


def test_round_trip_gives_the_items_of_the_manifest(corpus):
    manifest, folder = corpus
    items = _items(manifest)
    shards = read_shard_list(folder)
    assert [s.name for s in shards] == [f"shard-{i:06d}.tar" for i in range(4)]
    assert [s.utterances for s in shards] == [3, 3, 3, 3]
    listing = json.loads((folder / "shards.json").read_text())
    assert listing["sample_rate"] == RATE and listing["source_manifest"] == str(manifest.resolve())
    assert listing["utterances"] == 12 and listing["duration"] == pytest.approx(sum(items.durations()))
    with tarfile.open(folder / "shard-000000.tar") as tar:
        names = tar.getnames()
        entry = json.loads(tar.extractfile("spk0.utt00.json").read())
    assert names == ["spk0.utt00.flac", "spk0.utt00.json", "spk1.utt01.json", "spk1.utt01.wav"] + names[4:]
    assert "audio" not in entry and entry["text"] == "number 0"
    assert [u.id for u in read_shard_utterances(folder)] == [u.id for u in items.utterances]

    dataset = ShardDataset(folder, items, max_seconds=100.0, shuffle=False)
    got = {s.id: s for batch in dataset for s in batch}
    assert len(got) == len(items)
    for i, utt in enumerate(items.utterances):
        want, sample = items[i], got[utt.id]
        assert torch.equal(sample.waveform, want.waveform)
        assert torch.equal(sample.text, want.text) and torch.equal(sample.translation, want.translation)


def test_resampling_matches_the_per_file_loader(corpus):
    manifest, folder = corpus
    items = SpeechDataset(read_manifest(manifest), 16000)
    dataset = ShardDataset(folder, items, max_seconds=100.0, shuffle=False)
    got = {s.id: s.waveform for batch in dataset for s in batch}
    for i, utt in enumerate(items.utterances):
        assert torch.allclose(got[utt.id], items[i].waveform)


def test_order_is_fixed_by_seed_and_epoch(corpus):
    manifest, folder = corpus
    a = ShardDataset(folder, _items(manifest), max_seconds=0.8, seed=3, buffer_size=5)
    b = ShardDataset(folder, _items(manifest), max_seconds=0.8, seed=3, buffer_size=5)
    assert _ids(a, 1) == _ids(b, 1)
    assert _ids(a, 1) != _ids(a, 2)
    assert sorted(i for batch in _ids(a, 2) for i in batch) == sorted(u.id for u in read_manifest(manifest))
    assert _ids(a, 1) != _ids(
        ShardDataset(folder, _items(manifest), max_seconds=0.8, seed=4, buffer_size=5), 1
    )


def test_batches_stay_under_max_seconds(corpus):
    manifest, folder = corpus
    durations = {u.id: u.duration for u in read_manifest(manifest)}
    dataset = ShardDataset(folder, _items(manifest), max_seconds=0.7, max_batch_size=3, buffer_size=6)
    batches = _ids(dataset, 0)
    assert len(batches) == len(dataset)
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or max(durations[i] for i in batch) * len(batch) <= 0.7


def test_max_duration_leaves_long_utterances_out(corpus):
    manifest, folder = corpus
    dataset = ShardDataset(folder, _items(manifest), max_seconds=2.0, max_duration=0.2)
    kept = {i for batch in _ids(dataset) for i in batch}
    assert kept == {u.id for u in read_manifest(manifest) if u.duration <= 0.2}


@pytest.mark.parametrize("workers", [0, 2])
def test_ranks_get_disjoint_shares_of_equal_length(corpus, workers):
    manifest, folder = corpus
    seen, lengths = [], set()
    for rank in range(2):
        dataset = ShardDataset(
            folder,
            _items(manifest),
            0.5,
            num_workers=workers,
            num_replicas=2,
            rank=rank,
            seed=1,
            buffer_size=4,
        )
        dataset.set_epoch(2)
        assert set(dataset.slot_shards(rank, 0)).isdisjoint(dataset.slot_shards(1 - rank, 0))
        loader = DataLoader(dataset, batch_size=None, collate_fn=Collate(), num_workers=workers)
        ids = [b.ids for b in loader]
        lengths |= {len(ids), len(loader)}
        seen.append({i for batch in ids for i in batch})
    assert len(lengths) == 1  # every rank yields len() batches, the same number
    assert seen[0].isdisjoint(seen[1])
    assert seen[0] | seen[1] == {u.id for u in read_manifest(manifest)}


def test_a_resumed_epoch_skips_the_batches_already_trained(corpus):
    manifest, folder = corpus
    dataset = ShardDataset(folder, _items(manifest), 0.5, num_workers=2, buffer_size=4)
    loader = DataLoader(dataset, batch_size=None, collate_fn=Collate(), num_workers=2)
    position_loader(loader, 1)
    full = [b.ids for b in loader]
    position_loader(loader, 1, skip=3)
    assert [b.ids for b in loader] == full[3:]


def test_fewer_shards_than_reader_slots_is_an_error(corpus):
    manifest, folder = corpus
    with pytest.raises(SpeechError, match=r"4 shards cannot feed 2 rank\(s\) x 3 loader worker") as e:
        ShardDataset(folder, _items(manifest), 1.0, num_workers=3, num_replicas=2, rank=0)
    assert "\n" not in str(e.value)


def _ddp_worker(rank: int, folder: str, manifest: str, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    try:
        dataset = ShardDataset(folder, _items(Path(manifest)), 0.5, seed=5, buffer_size=4)
        dataset.set_epoch(1)
        ids = [b.ids for b in DataLoader(dataset, batch_size=None, collate_fn=Collate(), num_workers=1)]
        count = torch.tensor([len(ids)])
        dist.all_reduce(count)  # both ranks reach the collective
        Path(out, f"rank{rank}.json").write_text(json.dumps({"world": dataset.num_replicas, "ids": ids}))
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_read_disjoint_shards(corpus, tmp_path):
    manifest, folder = corpus
    init = f"file://{tmp_path / 'rendezvous'}"
    mp.spawn(_ddp_worker, args=(str(folder), str(manifest), init, str(tmp_path)), nprocs=2, join=True)
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world"] for r in results] == [2, 2]
    assert len(results[0]["ids"]) == len(results[1]["ids"])
    shares = [{i for batch in r["ids"] for i in batch} for r in results]
    assert shares[0].isdisjoint(shares[1])
    assert shares[0] | shares[1] == {u.id for u in read_manifest(manifest)}


# --- speech prepare shard -----------------------------------------------------------------------------


def _prepare(*args: str) -> int:
    return main(["prepare", "shard", *args])


def _one_line_error(capsys, *fragments: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for fragment in fragments:
        assert fragment in err[0]


def test_cli_writes_shards_and_refuses_a_full_folder(tmp_path, capsys):
    manifest = _corpus(tmp_path, n=5)
    out = tmp_path / "out"
    assert _prepare("--manifest", str(manifest), "--out-dir", str(out), "--shard-size", "2", "--json") == 0
    assert json.loads(capsys.readouterr().out)["shards"] == 3
    assert _prepare("--manifest", str(manifest), "--out-dir", str(out)) == 2
    _one_line_error(capsys, str(out), "not empty")
    assert _prepare("--manifest", str(manifest), "--out-dir", str(out), "--force") == 0
    assert [s.utterances for s in read_shard_list(out)] == [5]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "out", "train.jsonl"]  # no temporary left
    other = tmp_path / "audio"
    assert _prepare("--manifest", str(manifest), "--out-dir", str(other), "--force") == 2
    _one_line_error(capsys, "not a shard folder")


def test_cli_max_shard_bytes_starts_new_shards(tmp_path, capsys):
    manifest = _corpus(tmp_path, n=6)
    out = tmp_path / "out"
    assert _prepare("--manifest", str(manifest), "--out-dir", str(out), "--max-shard-bytes", "12000") == 0
    shards = read_shard_list(out)
    assert len(shards) > 1 and sum(s.utterances for s in shards) == 6


def test_cli_bad_input_is_one_line_naming_the_file(tmp_path, capsys):
    manifest = _corpus(tmp_path, n=3)
    (tmp_path / "audio" / "a1.wav").unlink()
    assert _prepare("--manifest", str(manifest), "--out-dir", str(tmp_path / "o")) == 2
    _one_line_error(capsys, f"{manifest}:2", "audio file not found")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    assert _prepare("--manifest", str(bad), "--out-dir", str(tmp_path / "o")) == 2
    _one_line_error(capsys, f"{bad}:1", "missing field")
    (tmp_path / "audio" / "a1.wav").write_bytes(b"not audio at all")
    assert _prepare("--manifest", str(manifest), "--out-dir", str(tmp_path / "o")) == 2
    _one_line_error(capsys, f"{manifest}:2", "a1.wav")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "..", "tab\there"])
def test_an_id_that_is_not_a_member_name_is_refused(tmp_path, capsys, bad_id):
    manifest = _corpus(tmp_path, n=2, ids=["fine", bad_id])
    assert _prepare("--manifest", str(manifest), "--out-dir", str(tmp_path / "o")) == 2
    _one_line_error(capsys, f"{manifest}:2", "cannot be a file name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "train.jsonl"]


def test_a_truncated_shard_is_a_one_line_error(corpus):
    manifest, folder = corpus
    tar = folder / "shard-000001.tar"
    tar.write_bytes(tar.read_bytes()[:700])
    dataset = ShardDataset(folder, _items(manifest), 100.0, shuffle=False)
    with pytest.raises(SpeechError, match="shard-000001.tar") as e:
        _ids(dataset)
    assert "\n" not in str(e.value)


# --- a task's loaders -----------------------------------------------------------------------------------


class _Task(BucketedTask):
    def __init__(self, train: str, workers: int = 0) -> None:
        super().__init__()
        data = SimpleNamespace(
            train=train,
            dev=train,
            max_seconds=0.6,
            max_batch_size=None,
            max_duration=None,
            num_workers=workers,
        )
        self.config = SimpleNamespace(data=data, trainer=SimpleNamespace(seed=7))

    def _dataset(self, manifest: str, train: bool) -> SpeechDataset:
        return SpeechDataset(self._utterances(manifest, train), RATE)

    def _collate(self) -> Collate:
        return Collate()


def test_a_task_trains_on_a_shard_folder_and_reshuffles_every_epoch(corpus):
    manifest, folder = corpus
    task = _Task(str(folder / "shards.json"))
    loader = task.train_dataloader()
    assert isinstance(loader.dataset, ShardDataset)
    epochs = []
    for epoch in range(2):
        position_loader(loader, epoch)
        epochs.append([b.ids for b in loader])
        assert len(epochs[-1]) == len(loader)
    assert epochs[0] != epochs[1]
    assert sorted(i for b in epochs[1] for i in b) == sorted(u.id for u in read_manifest(manifest))
    val = [b.ids for b in task.val_dataloader()]
    assert val == [b.ids for b in task.val_dataloader()]  # in order, the same every time
    assert not isinstance(_Task(str(manifest)).train_dataloader().dataset, ShardDataset)  # JSONL unchanged


def test_speech_train_asr_reads_a_shard_folder(tmp_path, capsys):
    """The ASR task trains two steps over two epochs on shards (named by their folder or shards.json)."""
    from speech.tasks.train import train_asr
    from tests.tasks.conftest import SMOKE

    manifest = _corpus(tmp_path, n=8)
    tokenizer, cmvn, shards = tmp_path / "tok.json", tmp_path / "cmvn.json", tmp_path / "shards"
    assert (
        main(["prepare", "tokenizer", "--manifest", str(manifest), "--out", str(tokenizer), "--quiet"]) == 0
    )
    assert main(["prepare", "cmvn", "--manifest", str(manifest), "--out", str(cmvn), "--quiet"]) == 0
    write_shards(manifest, shards, shard_size=2)
    listing = str(shards / "shards.json")
    data = [
        f"data.train={shards}",  # the folder itself, or its shards.json
        f"data.dev={listing}",
        f"data.tokenizer={tokenizer}",
        f"data.cmvn={cmvn}",
    ]
    overrides = [
        *SMOKE,
        *data,
        "data.max_seconds=1",
        "features.sample_rate=8000",
        "trainer.progress_bar=false",
    ]
    train_asr(None, tmp_path / "exp", [*overrides, "trainer.max_epochs=2", "trainer.keep_checkpoints=0"])
    state = torch.load(tmp_path / "exp" / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["epoch"] == 1 and state["global_step"] >= 4  # 8 utterances of <= 0.4 s: 2-4 batches an epoch
    assert (tmp_path / "exp" / "model.ckpt").is_file()
    from speech.data import read_manifest, read_utterances

    assert [u.id for u in read_utterances(shards)] == [u.id for u in read_manifest(manifest)]
    assert [u.text for u in read_utterances(manifest)] == [u.text for u in read_utterances(listing)]
