"""ConstantPerturbations: layout, stored perturbations' distribution, frozen augmentation, cache, loaders."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lit_robust.data import ConstantPerturbations, ImageDataModule, SyntheticImages
from lit_robust.data.augment import crop_at, hflip_where
from lit_robust.data.noise import sample_noise
from lit_robust.data.perturbed_copies import PerturbationCodes, PerturbedCopies
from lit_robust.defenses import RobustClassifier
from lit_robust.models import MLP


def tiny_source(kind: type[SyntheticImages] = SyntheticImages, **kwargs) -> SyntheticImages:
    return kind(**(dict(num_samples=60, num_classes=3, in_channels=3, input_size=8) | kwargs))


def tiny_data(source: SyntheticImages | None = None, **kwargs) -> ImageDataModule:
    return ImageDataModule(tiny_source() if source is None else source, batch_size=16, val_size=10, **kwargs)


def clean_train(**kwargs):
    data = tiny_data(tiny_source(**kwargs))
    data.setup("fit")
    return data.train_data


def wrapped(copies: int = 3, eps: float = 16 / 255, source=None, **kwargs) -> ImageDataModule:
    data = tiny_data(source, steps=[ConstantPerturbations(copies=copies, eps=eps, progress=False, **kwargs)])
    data.setup("fit")
    return data


def everything(dataset: PerturbedCopies) -> tuple[torch.Tensor, torch.Tensor]:
    return dataset.__getitems__(list(range(len(dataset))))


def test_layout_is_clean_images_then_copies_with_repeated_labels():
    data = wrapped(copies=3)
    clean_images, clean_labels = clean_train()
    assert isinstance(data.train_data, PerturbedCopies)
    images, labels = everything(data.train_data)
    n = len(clean_labels)
    assert images.shape == (4 * n, 3, 8, 8) and images.dtype == torch.float32
    assert torch.equal(images[:n], clean_images.float() / 255)
    assert torch.equal(labels, clean_labels.repeat(4))
    for j in range(1, 4):
        assert not torch.equal(images[j * n : (j + 1) * n], images[:n])
    assert not torch.equal(images[n : 2 * n], images[2 * n : 3 * n])  # each copy has its own noise
    x, y = data.train_data[2 * n + 5]
    assert torch.equal(x, images[2 * n + 5]) and y == clean_labels[5]


def test_copies_take_one_byte_a_pixel_so_the_set_is_k_plus_one_times_the_images():
    data = wrapped(copies=5, eps=8 / 255)
    extended, (images, labels) = data.train_data, clean_train()
    assert extended.codes.dtype == torch.int8
    assert extended.nbytes == 6 * images.nbytes + labels.nbytes
    frozen = wrapped(copies=5, eps=8 / 255, freeze_augmentation=True).train_data
    assert frozen.nbytes == extended.nbytes + 5 * len(labels) * 3  # crop corner and flip of each copy


@pytest.mark.parametrize("eps", [8 / 255, 16 / 255, 0.3])
def test_stored_perturbation_has_the_mean_magnitude_and_no_mass_at_zero_of_the_uniform(eps):
    encoding = PerturbationCodes.for_noise(eps, "uniform")
    noise = sample_noise(torch.empty(400_000), eps, "uniform", torch.Generator().manual_seed(0))
    stored = encoding.decode(encoding.encode(noise))
    assert stored.abs().max() == pytest.approx(eps) and (stored.abs() <= eps).all()
    assert stored.abs().mean().item() == pytest.approx(eps / 2, rel=0.01)  # truncation: 6-12.5% low
    assert (stored == 0).double().mean() < 0.005  # 1 in 254 codes; truncation left 1 pixel in 8 at 8/255
    assert abs(stored.mean().item()) < 0.005 * eps


@settings(max_examples=60, deadline=None)
@given(
    eps=st.floats(1e-3, 1.0), seed=st.integers(0, 2**31), distribution=st.sampled_from(["uniform", "normal"])
)
def test_codes_are_within_half_a_step_of_the_draw_and_never_exceed_the_bound(eps, seed, distribution):
    encoding = PerturbationCodes.for_noise(eps, distribution)
    noise = sample_noise(torch.empty(2000), eps, distribution, torch.Generator().manual_seed(seed))
    stored = encoding.decode(encoding.encode(noise))
    assert (stored.abs() <= encoding.bound).all()
    inside = noise.abs() <= encoding.bound
    assert ((stored - noise)[inside].abs() <= 0.5 / 255 + 1e-7).all()
    if distribution == "uniform":
        assert encoding.bound == eps and inside.all()


def test_copies_add_the_decoded_perturbation_to_the_clean_image_and_stay_in_range():
    data = wrapped(copies=2, eps=16 / 255, source=tiny_source(noise_std=0.0))
    images, _ = everything(data.train_data)
    n = len(images) // 3
    codes = data.train_data.codes
    expected = (images[:n].repeat(2, 1, 1, 1) + data.steps[0].encoding.decode(codes.flatten(0, 1))).clamp(
        0, 1
    )
    torch.testing.assert_close(images[n:], expected, atol=0, rtol=0)
    delta = images[n:] - images[:n].repeat(2, 1, 1, 1)
    assert delta.abs().max() <= 16 / 255 + 1e-6 and images.min() >= 0 and images.max() <= 1


def test_normal_distribution_has_eps_standard_deviation():
    data = wrapped(
        copies=2, eps=10 / 255, source=tiny_source(num_samples=400, noise_std=0.0), distribution="normal"
    )
    assert data.train_data.codes.dtype == torch.int16
    images, _ = everything(data.train_data)
    n = len(images) // 3
    delta = images[n:] - images[:n].repeat(2, 1, 1, 1)
    assert 9.5 / 255 < delta.std() < 10.5 / 255


def test_same_seed_same_copies_without_touching_the_global_rng():
    torch.manual_seed(1)
    state = torch.get_rng_state()
    first = everything(wrapped(seed=7, freeze_augmentation=True).train_data)[0]
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(2)
    assert torch.equal(everything(wrapped(seed=7, freeze_augmentation=True).train_data)[0], first)
    assert not torch.equal(everything(wrapped(seed=8, freeze_augmentation=True).train_data)[0], first)


def test_seed_none_follows_the_runs_seed(monkeypatch):
    def copies(run_seed: int) -> torch.Tensor:
        monkeypatch.setenv("PL_GLOBAL_SEED", str(run_seed))  # what seed_everything(run_seed) sets
        return everything(wrapped(seed=None).train_data)[0]

    assert torch.equal(copies(7), everything(wrapped(seed=7).train_data)[0])
    assert torch.equal(copies(7), copies(7)) and not torch.equal(copies(7), copies(8))


class Digits(SyntheticImages):
    hflip = False  # like SVHN: live augmentation never mirrors


def test_frozen_augmentation_crops_and_flips_the_copies_but_not_the_clean_images():
    data = wrapped(seed=3, freeze_augmentation=True, source=tiny_source(Digits))
    plain = everything(wrapped(seed=3).train_data)[0]
    extended = data.train_data
    frozen, _ = everything(extended)
    n = len(frozen) // 4
    assert torch.equal(plain[:n], frozen[:n])
    assert not torch.equal(plain[n:], frozen[n:])
    assert extended.padding == 1 and extended.flips.any() and not extended.flips.all()  # flipped anyway
    clean = frozen[:n]
    for j in range(3):
        moved = hflip_where(crop_at(clean, 1, extended.offsets[j]), extended.flips[j])
        expected = (moved + data.steps[0].encoding.decode(extended.codes[j])).clamp(0, 1)
        torch.testing.assert_close(frozen[(j + 1) * n : (j + 2) * n], expected, atol=0, rtol=0)


def test_validation_and_test_are_left_alone():
    data, plain = tiny_data(steps=[ConstantPerturbations(copies=2, progress=False)]), tiny_data()
    for datamodule in (data, plain):
        datamodule.setup("fit")
        datamodule.setup("test")
    assert torch.equal(data.val_dataloader().dataset.images, plain.val_data[0])
    assert torch.equal(data.test_dataloader().dataset.images, plain.test_data[0])
    loader = data.train_dataloader()
    assert loader.dataset is data.train_data and len(loader.dataset) == 3 * len(clean_train()[1])
    assert loader.batch_size == 16
    x, _ = data.on_after_batch_transfer(next(iter(loader)), 0)
    assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1
    x, _ = data.on_after_batch_transfer(next(iter(data.val_dataloader())), 0)
    assert x.dtype == torch.float32 and x.max() <= 1


def test_setup_twice_keeps_the_same_extended_set():
    data = wrapped()
    extended = data.train_data
    data.setup("fit")
    assert data.train_data is extended


def test_cache_is_reused_and_keyed_by_the_parameters(tmp_path):
    first = wrapped(cache_dir=str(tmp_path))
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    again = wrapped(cache_dir=str(tmp_path))
    assert torch.equal(again.train_data.codes, first.train_data.codes)
    assert files[0].stat().st_mtime_ns == mtime  # loaded, not rewritten
    wrapped(cache_dir=str(tmp_path), eps=8 / 255)
    wrapped(cache_dir=str(tmp_path), seed=1)
    assert len(list(tmp_path.iterdir())) == 3
    frozen = wrapped(cache_dir=str(tmp_path), freeze_augmentation=True)  # same codes, same file
    assert torch.equal(frozen.train_data.codes, first.train_data.codes)
    assert len(list(tmp_path.iterdir())) == 3


def test_stale_cache_is_rebuilt(tmp_path):
    reference = wrapped(cache_dir=str(tmp_path))
    (path,) = tmp_path.iterdir()
    stored = torch.load(path, weights_only=True)
    stored["images"] = stored["images"].flip(0)  # contents no longer match the stored checksum
    torch.save(stored, path)
    with pytest.warns(UserWarning, match="stale or corrupt"):
        rebuilt = wrapped(cache_dir=str(tmp_path))
    assert torch.equal(rebuilt.train_data.codes, reference.train_data.codes)
    assert torch.equal(torch.load(path, weights_only=True)["images"], reference.train_data.codes)


def test_corrupt_cache_is_rebuilt(tmp_path):
    reference = wrapped(cache_dir=str(tmp_path))
    (path,) = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="unreadable cache"):
        rebuilt = wrapped(cache_dir=str(tmp_path))
    assert torch.equal(rebuilt.train_data.codes, reference.train_data.codes)


def test_cache_key_follows_the_data_and_the_source():
    step, source = ConstantPerturbations(progress=False), tiny_source()
    images, labels = clean_train()
    assert step.cache_key((images, labels), source) == step.cache_key(
        (images.clone(), labels.clone()), source
    )
    assert step.cache_key((images, labels), source) != step.cache_key((images, labels), tiny_source(Digits))
    images[0, 0, 0, 0] ^= 1
    assert step.cache_key((images, labels), source) != step.cache_key(clean_train(), source)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"copies": 0}, "copies"), ({"eps": 0.0}, "eps"), ({"distribution": "laplace"}, "distribution")],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConstantPerturbations(**kwargs)


def test_mismatched_tensors_are_refused():
    images, labels = clean_train()
    encoding = PerturbationCodes.for_noise(0.1, "uniform")
    with pytest.raises(ValueError, match="codes must be"):
        PerturbedCopies(images, labels, torch.zeros(2, 3, dtype=torch.int8), encoding)
    codes = torch.zeros(2, *images.shape, dtype=torch.int8)
    with pytest.raises(ValueError, match="offsets and flips"):
        PerturbedCopies(images, labels, codes, encoding, offsets=torch.zeros(2, len(labels), 2))


def test_trains_on_the_extended_set(tmp_path):
    step = ConstantPerturbations(copies=2, progress=False)
    data = ImageDataModule(tiny_source(num_samples=48), batch_size=16, val_size=8, augment=True, steps=[step])
    model = RobustClassifier(
        MLP(in_channels=3, num_classes=3, input_size=8, hidden_sizes=[16]), num_classes=3
    )
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False, default_root_dir=tmp_path
    )
    trainer.fit(model, datamodule=data)
    assert trainer.num_training_batches == 8  # 3 x 40 images in batches of 16
    assert trainer.global_step == 8


def test_after_a_step_that_made_a_dataset_a_tensor_step_says_where_to_put_it():
    steps = [ConstantPerturbations(copies=1, progress=False), ConstantPerturbations(copies=1, progress=False)]
    with pytest.raises(ValueError, match="put ConstantPerturbations before that step"):
        tiny_data(steps=steps).setup("fit")
