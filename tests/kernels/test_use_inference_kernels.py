import subprocess
import sys

import torch
from torch import nn

from speech.attention import AdditiveAttention, LocationAwareAttention, MultiHeadLocationAwareAttention
from speech.features import LogMel
from speech.kernels import (
    CPUAdditiveAttention,
    CPULocationAwareAttention,
    CPULogMel,
    use_inference_kernels,
)
from speech.models.speller import Speller, SpellerConfig
from speech.models.tacotron2_decoder import Decoder


class Tree(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = LogMel()
        self.additive = AdditiveAttention(6, 5, 8)
        self.multihead = MultiHeadLocationAwareAttention(6, 5, 8, 2, n_filters=3, kernel_size=5)
        self.speller = Speller(SpellerConfig(vocab_size=9, memory_dim=5, hidden_size=6, attention_dim=8))
        self.decoder = Decoder(4, 5, 2, [6], 0.5, 6, 6, 8, 3, 5, 0.1)


def classes(module: nn.Module) -> list[type]:
    return [type(m) for m in module.modules()]


def test_cpu_kernels_replace_the_references_in_place_and_idempotently():
    torch.manual_seed(0)
    tree = Tree()
    before = {k: v.clone() for k, v in tree.state_dict().items()}
    attention = tree.speller.attention
    assert use_inference_kernels(tree, "cpu") is tree
    once = classes(tree)
    assert type(tree.features) is CPULogMel and type(tree.additive) is CPUAdditiveAttention
    assert all(type(h) is CPULocationAwareAttention for h in tree.multihead.heads)
    assert tree.speller.attention is attention and type(attention) is CPULocationAwareAttention
    assert type(tree.decoder.attention) is CPULocationAwareAttention
    assert not tree.decoder.attention.skip_padding and tree.speller.attention.skip_padding
    assert {k: v for k, v in tree.state_dict().items()}.keys() == before.keys()
    for k, v in tree.state_dict().items():
        assert torch.equal(v, before[k]), k
    use_inference_kernels(tree, torch.device("cpu"))
    assert classes(tree) == once


def test_other_devices_keep_or_restore_the_references():
    tree = Tree()
    reference = classes(tree)
    use_inference_kernels(tree, "cuda")  # no CUDA needed: nothing moves
    assert classes(tree) == reference
    use_inference_kernels(tree, "cpu")
    use_inference_kernels(tree, "cuda:0")
    assert classes(tree) == reference
    assert type(tree.speller.attention) is LocationAwareAttention


def test_subclasses_keep_their_own_forward():
    class Mine(LocationAwareAttention):
        pass

    module = use_inference_kernels(Mine(6, 5, 8), "cpu")
    assert type(module) is Mine


def test_importing_the_kernels_needs_no_lightning():
    code = (
        "import sys, speech.kernels, speech.models.speller, speech.models.tacotron2;"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning')];"
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
