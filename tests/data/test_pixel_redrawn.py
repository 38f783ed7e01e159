from __future__ import annotations

import lightning as L
import pytest
import torch

from lit_robust.data import ImageDataModule, PixelRedrawn, SyntheticImages
from lit_robust.defenses import RobustClassifier
from lit_robust.models import MLP, PixelRedrawer


def tiny_data(*steps: PixelRedrawn) -> ImageDataModule:
    source = SyntheticImages(num_samples=60, num_classes=3, in_channels=1, input_size=8)
    return ImageDataModule(source, batch_size=16, val_size=10, steps=steps)


def clean(stage: str = "fit") -> ImageDataModule:
    data = tiny_data()
    data.setup(stage)
    return data


def redrawer(seed: int = 0) -> PixelRedrawer:
    return PixelRedrawer(steps=300, seed=seed)


def wrapped(stage: str = "fit", redrawer_seed: int = 0, **kwargs) -> ImageDataModule:
    data = tiny_data(PixelRedrawn(redrawer(redrawer_seed), progress=False, **kwargs))
    data.setup(stage)
    return data


def test_training_set_is_the_redraws_of_every_image_with_repeated_labels():
    data = wrapped(redraws=2)
    images, labels = data.train_data
    clean_images, clean_labels = clean().train_data
    n = len(clean_labels)
    assert images.shape == (2 * n, 1, 8, 8) and images.dtype == torch.uint8
    assert torch.equal(labels, clean_labels.repeat(2))
    assert not torch.equal(images[:n], images[n:])  # each redraw is a fresh draw
    assert not torch.equal(images[:n], clean_images)


def test_redrawn_pixels_stay_in_the_range_the_pr_model_predicts():
    data = wrapped(redraws=2)
    images = data.train_data[0].float() / 255
    x = clean().train_data[0].float().div(255).repeat(2, 1, 1, 1)
    model = data.steps[0].redrawer
    category = (x.unsqueeze(-1) * model.weight[0] + model.bias[0]).argmax(-1)
    low, high = model.ranges[category].unbind(-1)
    assert ((images >= low - 0.5 / 255) & (images <= high + 0.5 / 255)).all()


def test_evaluation_images_are_redrawn_only_when_asked():
    plain, redrawn = wrapped(), wrapped(redraw_eval=True)
    reference = clean()
    assert torch.equal(plain.val_data[0], reference.val_data[0])
    assert not torch.equal(redrawn.val_data[0], reference.val_data[0])
    assert torch.equal(redrawn.val_data[1], reference.val_data[1])
    tested = wrapped("test", redraw_eval=True)
    assert tested.test_data[0].shape == clean("test").test_data[0].shape
    assert not torch.equal(tested.test_data[0], clean("test").test_data[0])


def test_redraws_follow_the_seed():
    assert torch.equal(wrapped(seed=3).train_data[0], wrapped(seed=3).train_data[0])
    assert not torch.equal(wrapped(seed=3).train_data[0], wrapped(seed=4).train_data[0])


def test_cache_is_reused_and_keyed_by_the_pr_models(tmp_path):
    first = wrapped(cache_dir=str(tmp_path))
    (path,) = tmp_path.iterdir()
    mtime = path.stat().st_mtime_ns
    again = wrapped(cache_dir=str(tmp_path))
    assert torch.equal(again.train_data[0], first.train_data[0])
    assert path.stat().st_mtime_ns == mtime  # loaded, not rewritten
    wrapped(cache_dir=str(tmp_path), redrawer_seed=1)  # other PR models: another file
    wrapped(cache_dir=str(tmp_path), redraws=2)
    assert len(list(tmp_path.iterdir())) == 3


def test_a_model_trains_on_it():
    data = tiny_data(PixelRedrawn(redrawer(), progress=False))
    model = RobustClassifier(
        MLP(in_channels=1, num_classes=3, input_size=8, hidden_sizes=(16,)), num_classes=3
    )
    trainer = L.Trainer(
        fast_dev_run=True, logger=False, enable_progress_bar=False, enable_model_summary=False
    )
    trainer.fit(model, datamodule=data)
    assert trainer.state.finished


def test_redraws_must_be_positive():
    with pytest.raises(ValueError, match="redraws"):
        PixelRedrawn(redrawer(), redraws=0)
