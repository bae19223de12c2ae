import pytest
import torch

from speech.models.speller import Speller, SpellerConfig
from tests.models.conftest import tiny_speller


def speller_and_memory(heads):
    torch.manual_seed(0)
    speller = Speller(SpellerConfig(vocab_size=10, memory_dim=6, **tiny_speller(heads)), never_emit=(0, 1))
    lengths = torch.tensor([9, 4, 7])
    memory = torch.randn(3, 9, 6) * (torch.arange(9)[None, :] < lengths[:, None])[..., None]
    return speller.eval(), memory, lengths


@pytest.mark.parametrize("heads", [1, 2])
def test_hypotheses_of_one_utterance_share_its_memory_row(heads):
    speller, memory, lengths = speller_and_memory(heads)
    rows = torch.tensor([0, 0, 2, 2])  # two hypotheses each of utterances 0 and 2: 1 drops out
    last = torch.tensor([4, 5, 6, 7])
    with torch.no_grad():
        shared = speller.select(speller.init_state(memory, lengths), rows)
        copied = speller.init_state(memory[rows], lengths[rows])  # one memory row per hypothesis
        assert shared.memory.shape[0] == 2 and copied.memory.shape[0] == 4
        for _ in range(3):
            a, shared = speller.score(last, shared)
            b, copied = speller.score(last, copied)
            torch.testing.assert_close(a, b)
        for kept, memory_rows in ((torch.tensor([3, 2]), 1), (torch.tensor([1, 0, 3]), 3)):
            # both hypotheses of utterance 2 (one memory row), or runs of unequal length (a row each)
            a, _ = speller.score(last[: len(kept)], speller.select(shared, kept))
            b, _ = speller.score(last[: len(kept)], speller.select(copied, kept))
            assert speller.select(shared, kept).memory.shape[0] == memory_rows
            torch.testing.assert_close(a, b)
