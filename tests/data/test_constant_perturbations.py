from __future__ import annotations

import lightning as L
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lit_robust.data import ConstantPerturbations, SyntheticImages
from lit_robust.data.noise import perturb_uint8
from lit_robust.defenses import RobustClassifier
from lit_robust.models import MLP


def tiny_base(**kwargs) -> SyntheticImages:
    options = dict(num_samples=60, num_classes=3, in_channels=3, input_size=8, batch_size=16, val_size=10)
    return SyntheticImages(**(options | kwargs))


def clean_train(**kwargs):
    base = tiny_base(**kwargs)
    base.setup("fit")
    return base.train_data


def wrapped(copies: int = 3, eps: float = 16 / 255, **kwargs) -> ConstantPerturbations:
    data = ConstantPerturbations(tiny_base(), copies=copies, eps=eps, progress=False, **kwargs)
    data.setup("fit")
    return data


def test_layout_is_clean_images_then_copies_with_repeated_labels():
    data = wrapped(copies=3)
    clean_images, clean_labels = clean_train()
    images, labels = data.train_data
    n = len(clean_labels)
    assert images.shape == (4 * n, 3, 8, 8) and images.dtype == torch.uint8
    assert torch.equal(images[:n], clean_images)
    assert torch.equal(labels, clean_labels.repeat(4))
    for j in range(1, 4):
        assert not torch.equal(images[j * n : (j + 1) * n], clean_images)
    assert not torch.equal(images[n : 2 * n], images[2 * n : 3 * n])  # each copy has its own noise


def test_uniform_perturbation_stays_within_eps_and_fills_it():
    eps = 16 / 255
    data = wrapped(copies=5, eps=eps)
    images, _ = data.train_data
    n = len(images) // 6
    delta = images[n:].int() - images[:n].int().repeat(5, 1, 1, 1)
    assert delta.abs().max() <= 16  # rounded towards the clean value: the bound holds exactly
    assert delta.max() >= 14 and delta.min() <= -14  # and the noise spans the ball
    assert abs(delta.float().mean()) < 0.5  # symmetric


@settings(max_examples=50, deadline=None)
@given(
    eps=st.floats(1e-3, 1.0), seed=st.integers(0, 2**31), distribution=st.sampled_from(["uniform", "normal"])
)
def test_perturb_uint8_never_exceeds_eps_for_uniform_and_stays_in_range(eps, seed, distribution):
    images = torch.randint(
        0, 256, (4, 1, 6, 6), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8
    )
    out = perturb_uint8(images, eps, distribution, torch.Generator().manual_seed(seed + 1))
    assert out.dtype == torch.uint8
    if distribution == "uniform":
        assert ((out.int() - images.int()).abs() <= eps * 255 + 1e-6).all()


def test_normal_distribution_has_eps_standard_deviation():
    base = tiny_base(num_samples=400, noise_std=0.0)
    data = ConstantPerturbations(base, copies=2, eps=10 / 255, distribution="normal", progress=False)
    data.setup("fit")
    images, _ = data.train_data
    n = len(images) // 3
    delta = images[n:].float() - images[:n].float().repeat(2, 1, 1, 1)
    # truncation towards zero shrinks the spread by about half a step
    assert 9.0 < delta.std() < 10.5


def test_same_seed_same_copies_without_touching_the_global_rng():
    torch.manual_seed(1)
    state = torch.get_rng_state()
    first = wrapped(seed=7, freeze_augmentation=True).train_data[0]
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(2)
    assert torch.equal(wrapped(seed=7, freeze_augmentation=True).train_data[0], first)
    assert not torch.equal(wrapped(seed=8, freeze_augmentation=True).train_data[0], first)


def test_frozen_augmentation_moves_the_copies_but_not_the_clean_images():
    plain, frozen = wrapped(seed=3).train_data[0], wrapped(seed=3, freeze_augmentation=True).train_data[0]
    n = len(plain) // 4
    assert torch.equal(plain[:n], frozen[:n])
    assert not torch.equal(plain[n:], frozen[n:])


def test_metadata_and_evaluation_loaders_are_the_base_ones():
    base = tiny_base()
    data = ConstantPerturbations(base, copies=2, progress=False)
    for name in ("num_classes", "in_channels", "input_size", "mean", "std"):
        assert getattr(data, name) == getattr(base, name)
    data.setup("fit")
    data.setup("test")
    assert torch.equal(data.val_dataloader().dataset.images, base.val_data[0])
    assert torch.equal(data.test_dataloader().dataset.images, base.test_data[0])
    loader = data.train_dataloader()
    assert len(loader.dataset) == 3 * len(clean_train()[1])
    assert loader.batch_size == 16
    x, _ = data.on_after_batch_transfer(next(iter(loader)), 0)
    assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1


def test_setup_twice_keeps_the_same_extended_set():
    data = wrapped()
    images = data.train_data[0]
    data.setup("fit")
    assert data.train_data[0] is images and data.base.train_data[0] is images


def test_cache_is_reused_and_keyed_by_the_parameters(tmp_path):
    first = wrapped(cache_dir=str(tmp_path))
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    again = wrapped(cache_dir=str(tmp_path))
    assert torch.equal(again.train_data[0], first.train_data[0])
    assert files[0].stat().st_mtime_ns == mtime  # loaded, not rewritten
    wrapped(cache_dir=str(tmp_path), eps=8 / 255)
    wrapped(cache_dir=str(tmp_path), seed=1)
    assert len(list(tmp_path.iterdir())) == 3


def test_stale_cache_is_rebuilt(tmp_path):
    reference = wrapped(cache_dir=str(tmp_path))
    (path,) = tmp_path.iterdir()
    stored = torch.load(path, weights_only=True)
    stored["images"] = stored["images"].flip(0)  # contents no longer match the stored checksum
    torch.save(stored, path)
    with pytest.warns(UserWarning, match="stale or corrupt"):
        rebuilt = wrapped(cache_dir=str(tmp_path))
    assert torch.equal(rebuilt.train_data[0], reference.train_data[0])
    assert torch.equal(torch.load(path, weights_only=True)["images"], reference.train_data[0])


def test_corrupt_cache_is_rebuilt(tmp_path):
    reference = wrapped(cache_dir=str(tmp_path))
    (path,) = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="unreadable cache"):
        rebuilt = wrapped(cache_dir=str(tmp_path))
    assert torch.equal(rebuilt.train_data[0], reference.train_data[0])


def test_cache_key_follows_the_base_data():
    data = ConstantPerturbations(tiny_base(), progress=False)
    images, labels = clean_train()
    assert data.cache_key((images, labels)) == data.cache_key((images.clone(), labels.clone()))
    images[0, 0, 0, 0] ^= 1
    assert data.cache_key((images, labels)) != data.cache_key(clean_train())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"copies": 0}, "copies"), ({"eps": 0.0}, "eps"), ({"distribution": "laplace"}, "distribution")],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConstantPerturbations(tiny_base(), **kwargs)


def test_trains_on_the_extended_set(tmp_path):
    data = ConstantPerturbations(
        tiny_base(num_samples=48, val_size=8), copies=2, augment=True, progress=False
    )
    model = RobustClassifier(
        MLP(in_channels=3, num_classes=3, input_size=8, hidden_sizes=[16]), num_classes=3
    )
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=tmp_path
    )
    trainer.fit(model, datamodule=data)
    assert trainer.num_training_batches == 8  # 3 x 40 images in batches of 16
    assert trainer.global_step == 8
