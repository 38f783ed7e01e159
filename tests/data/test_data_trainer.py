"""A datamodule inside a real Trainer: the hooks Lightning calls and the batches the model sees."""

from __future__ import annotations

import lightning as L
import torch
from torch import nn

from tests.synthetic import synthetic_data


class Recorder(L.LightningModule):
    """A linear classifier that keeps the batches it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 10))
        self.train_batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.val_batches: list[tuple[torch.Tensor, torch.Tensor]] = []

    def training_step(self, batch, batch_idx):
        self.train_batches.append(batch)
        images, labels = batch
        return nn.functional.cross_entropy(self.net(images), labels)

    def validation_step(self, batch, batch_idx):
        self.val_batches.append(batch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_fit_sees_float_batches_augmented_only_in_training():
    datamodule = synthetic_data(num_samples=80, input_size=8, batch_size=16, val_size=16, augment=True)
    model = Recorder()
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=datamodule)
    assert len(model.train_batches) == 4
    for images, labels in model.train_batches:
        assert images.dtype == torch.float32 and images.shape == (16, 3, 8, 8)
        assert labels.dtype == torch.int64
        assert images.min() >= 0 and images.max() <= 1
    val_images = torch.cat([images for images, _ in model.val_batches])
    assert torch.equal(val_images, datamodule.val_data[0] / 255)
    # Crops pad with zeros; the synthetic pixels are almost never exactly 0.
    train_zero_fraction = torch.cat([images for images, _ in model.train_batches]).eq(0).float().mean()
    assert train_zero_fraction > 10 * val_images.eq(0).float().mean()
