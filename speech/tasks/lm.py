"""Train an RNN language model on a manifest's text (``speech train lm``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import lightning as L
import torch
from torch.utils.data import DataLoader

from speech.config import check_choice, check_nonempty, check_positive
from speech.data import read_manifest
from speech.data.dataset import pad_sequences
from speech.metadata import LMMeta, to_dict
from speech.models.lm import RNNLM, LMConfig
from speech.tasks.common import OptimConfig, TrainerConfig, build_optimizer
from speech.text import Tokenizer, load_tokenizer, tokenizer_to_dict


@dataclass
class LMDataConfig:
    """Text sources.

    Attributes:
        train: Manifest whose ``field`` texts train the LM.
        dev: Validation manifest.
        tokenizer: The recognizer's tokenizer file (the LM must share its ids).
        field: ``text`` or ``translation``.
        batch_size: Sentences per batch.
    """

    train: str = "data/train.jsonl"
    dev: str = "data/dev.jsonl"
    tokenizer: str = "data/tokenizer.json"
    field: str = "text"
    batch_size: int = 64

    def __post_init__(self) -> None:
        check_nonempty(self, "train", "dev", "tokenizer")
        check_choice(self, "field", ("text", "translation"))
        check_positive(self, "batch_size")


@dataclass
class LMTrainConfig:
    """Everything ``speech train lm`` reads from its YAML config."""

    data: LMDataConfig = field(default_factory=LMDataConfig)
    model: LMConfig = field(default_factory=LMConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(warmup_steps=100))
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(max_epochs=10))

    def inputs(self) -> list[str | None]:
        """Files the run reads (checked before anything is written)."""
        return [self.data.train, self.data.dev, self.data.tokenizer]


class LMTask(L.LightningModule):
    """Lightning wrapper of :class:`RNNLM`."""

    def __init__(self, config: LMTrainConfig, tokenizer: Tokenizer) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.model_config = dataclasses.replace(
            config.model,
            vocab_size=tokenizer.vocab_size,
            pad_id=tokenizer.pad_id,
            bos_id=tokenizer.bos_id,
            eos_id=tokenizer.eos_id,
        )
        self.model = RNNLM(self.model_config)

    @classmethod
    def from_config(cls, config: LMTrainConfig, resume: bool) -> LMTask:
        """The task with the tokenizer the config names."""
        return cls(config, load_tokenizer(config.data.tokenizer))

    def _loader(self, manifest: str, shuffle: bool) -> DataLoader:
        texts = [getattr(u, self.config.data.field) or "" for u in read_manifest(manifest)]
        ids = [torch.tensor(self.tokenizer.encode(t), dtype=torch.long) for t in texts if t]
        return DataLoader(
            ids,
            batch_size=self.config.data.batch_size,
            shuffle=shuffle,
            collate_fn=lambda xs: pad_sequences(xs, self.tokenizer.pad_id),
        )

    def train_dataloader(self) -> DataLoader:  # noqa: D102
        return self._loader(self.config.data.train, True)

    def val_dataloader(self) -> DataLoader:  # noqa: D102
        return self._loader(self.config.data.dev, False)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:  # noqa: D102
        loss = self.model(*batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch[0].shape[0])
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:  # noqa: D102
        loss = self.model(*batch)
        self.log("val/loss", loss, prog_bar=True, batch_size=batch[0].shape[0], sync_dist=True)
        self.log("val/perplexity", loss.exp(), batch_size=batch[0].shape[0], sync_dist=True)

    def configure_optimizers(self):  # noqa: D102
        return build_optimizer(self, self.config.optim)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Store the LM config and the tokenizer it was trained with."""
        meta = LMMeta(task="lm", model=self.model_config, tokenizer=tokenizer_to_dict(self.tokenizer))
        checkpoint["speech"] = to_dict(meta)
