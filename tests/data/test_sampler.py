import random

import pytest

from speech.data import LengthBucketSampler


def lengths(n=200, seed=0):
    rng = random.Random(seed)
    return [rng.uniform(1.0, 10.0) for _ in range(n)]


def test_every_index_once_and_budget_respected():
    lens = lengths()
    sampler = LengthBucketSampler(lens, max_frames=40.0)
    batches = list(sampler)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(lens)))
    for batch in batches:
        assert max(lens[i] for i in batch) * len(batch) <= 40.0 or len(batch) == 1


def test_deterministic_per_epoch_and_changes_between_epochs():
    lens = lengths()
    a, b = LengthBucketSampler(lens, 40.0, seed=3), LengthBucketSampler(lens, 40.0, seed=3)
    assert list(a) == list(b)
    a.set_epoch(1)
    b.set_epoch(1)
    assert list(a) == list(b)
    a.set_epoch(0)
    epoch0 = list(a)
    a.set_epoch(1)
    assert list(a) != epoch0


def test_bucketing_pads_less_than_random_batches():
    lens = lengths(400)
    sampler = LengthBucketSampler(lens, max_frames=60.0)
    rng = random.Random(0)
    order = list(range(len(lens)))
    rng.shuffle(order)
    size = 8
    random_batches = [order[i : i + size] for i in range(0, len(order), size)]
    padded = sum(max(lens[i] for i in b) * len(b) for b in random_batches)
    random_fraction = 1 - sum(lens) / padded
    assert 0.0 <= sampler.padding_fraction() < 0.5 * random_fraction


@pytest.mark.parametrize("replicas", [2, 3])
def test_ddp_ranks_get_disjoint_shares_of_equal_length(replicas):
    lens = lengths(101)
    samplers = [
        LengthBucketSampler(lens, 30.0, num_replicas=replicas, rank=r, seed=1) for r in range(replicas)
    ]
    per_rank = [list(s) for s in samplers]
    assert len({len(b) for b in per_rank}) == 1
    assert all(len(s) == len(per_rank[0]) for s in samplers)
    all_batches = samplers[0].all_batches()
    # Without the wrap-around padding the shares are disjoint and cover everything.
    n = len(all_batches)
    shares = [set(map(tuple, all_batches[r:n:replicas])) for r in range(replicas)]
    for r in range(replicas):
        for q in range(r + 1, replicas):
            assert not shares[r] & shares[q]
    covered = sorted(i for b in (b for r in per_rank for b in r) for i in b)
    assert set(covered) == set(range(len(lens)))


@pytest.mark.parametrize("replicas", [1, 2])
def test_a_new_sampler_resumes_an_epoch_at_any_batch(replicas):
    # A resumed run positions a new sampler: its epoch order must not depend on the epochs the sampler
    # went through before, and skipping k batches must give batches k.. of the uninterrupted order.
    lens = lengths(80)
    straight = LengthBucketSampler(lens, 20.0, seed=5, num_replicas=replicas, rank=replicas - 1)
    epochs = []
    for epoch in range(3):
        straight.set_epoch(epoch)
        epochs.append(list(straight))
    for epoch, batches in enumerate(epochs):
        for skip in range(len(batches) + 1):
            resumed = LengthBucketSampler(lens, 20.0, seed=5, num_replicas=replicas, rank=replicas - 1)
            resumed.set_position(epoch, skip)
            assert len(resumed) == len(batches)
            assert list(resumed) == batches[skip:]


def test_max_batch_size_and_oversized_items():
    sampler = LengthBucketSampler([1.0] * 10 + [100.0], max_frames=50.0, max_batch_size=4, shuffle=False)
    batches = list(sampler)
    assert all(len(b) <= 4 for b in batches)
    assert [10] in batches


def test_bad_arguments():
    with pytest.raises(ValueError):
        LengthBucketSampler([], 10.0)
    with pytest.raises(ValueError):
        LengthBucketSampler([1.0], 0)
    with pytest.raises(ValueError):
        LengthBucketSampler([1.0], 10.0, num_replicas=2, rank=2)


@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_len_is_the_number_of_batches_iterated_in_every_epoch(replicas):
    """The jitter changes the batch count between epochs; len() must follow the epoch iterated."""
    lens = lengths(60, seed=4)
    samplers = [
        LengthBucketSampler(lens, 12.0, num_replicas=replicas, rank=r, seed=2) for r in range(replicas)
    ]
    counts = set()
    for epoch in range(25):
        for sampler in samplers:
            sampler.set_epoch(epoch)
            assert len(sampler) == len(list(sampler))
            # asked before and after iterating, in any order, len() answers for the selected epoch
            assert len(sampler) == len(list(sampler))
        counts.add(len(samplers[0].all_batches()))
    assert len(counts) > 1  # the case that broke validation: different epochs, different counts


def test_set_position_skips_consumed_batches_without_changing_len():
    lens = lengths(80)
    sampler = LengthBucketSampler(lens, 20.0, seed=5)
    sampler.set_epoch(3)
    full = list(sampler)
    sampler.set_position(3, skip=4)
    assert len(sampler) == len(full)
    assert list(sampler) == full[4:]
    sampler.set_epoch(3)  # a new epoch starts from its first batch
    assert list(sampler) == full
    with pytest.raises(ValueError):
        sampler.set_position(0, skip=-1)
