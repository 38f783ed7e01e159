"""Every bad input to a public entry point gets one clear error that names the argument, before any work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.attacks import EOT, FGSM, PGD, DeepFool
from lit_robust.callbacks import RobustnessEvaluation
from lit_robust.evaluation import evaluate_robustness
from lit_robust.metrics import InterraterAgreement, Rho, RobustAccuracy

CLASSES = 5


def conv_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(32, CLASSES)
    )


def images(n: int = 3) -> Tensor:
    return torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(0))


def labels(n: int = 3) -> Tensor:
    return torch.arange(n) % CLASSES


def with_pixel(value: float, index: tuple[int, ...] = (0, 0, 1, 1)) -> Tensor:
    x = images()
    x[index] = value
    return x


BAD_BATCHES: dict[str, tuple[Callable[[], tuple[object, object]], type[Exception], str]] = {
    "nan pixel": (lambda: (with_pixel(float("nan")), labels()), ValueError, r"x must lie in \[0, 1\].*NaN"),
    "all-nan image": (
        lambda: (torch.cat([images(2), torch.full((1, 1, 4, 4), float("nan"))]), labels()),
        ValueError,
        r"x must lie in \[0, 1\].*16 NaN",
    ),
    "inf pixel": (lambda: (with_pixel(float("inf")), labels()), ValueError, "x must lie in"),
    "-inf pixel": (lambda: (with_pixel(float("-inf")), labels()), ValueError, "x must lie in"),
    "above 1": (lambda: (images() + 1.5, labels()), ValueError, "x must lie in.*normalisation belongs"),
    "below 0": (lambda: (images() - 0.5, labels()), ValueError, r"x must lie in \[0, 1\]"),
    "uint8 images": (lambda: ((images() * 255).byte(), labels()), TypeError, "x must be a float tensor"),
    "int64 images": (lambda: (images().long(), labels()), TypeError, "x must be a float tensor"),
    "list images": (lambda: (images().tolist(), labels()), TypeError, "x must be a torch.Tensor"),
    "(N, H, W) images": (lambda: (images()[:, 0], labels()), ValueError, r"x must be a batch.*unsqueeze"),
    "NHWC images": (lambda: (images().permute(0, 2, 3, 1), labels()), ValueError, "x looks channels-last"),
    "1-D images": (lambda: (images().flatten(), labels()), ValueError, "x must be a batch"),
    "wrong channels": (
        lambda: (images().expand(3, 3, 4, 4), labels()),
        ValueError,
        "x of shape .* does not fit",
    ),
    "wrong size": (lambda: (torch.rand(3, 1, 5, 5), labels()), ValueError, "x of shape .* does not fit"),
    "float labels": (lambda: (images(), labels().float()), ValueError, "y must be an integer class-index"),
    "(N, 1) labels": (lambda: (images(), labels()[:, None]), ValueError, r"y must be .*y.squeeze\(1\)"),
    "bool labels": (lambda: (images(), labels() > 0), ValueError, "y must be an integer class-index"),
    "negative labels": (lambda: (images(), labels() - 1), ValueError, "y must hold class indices >= 0"),
    "labels out of range": (lambda: (images(), labels() + CLASSES), ValueError, "y holds labels up to 7"),
    "shorter labels": (lambda: (images(), labels(2)), ValueError, "y has batch size 2 but the images have 3"),
    "list labels": (lambda: (images(), [0, 1, 2]), TypeError, "y must be a torch.Tensor"),
}
ATTACKS = {"PGD": PGD(0.1, steps=1), "DeepFool": DeepFool(steps=1), "EOT": EOT(FGSM(0.1), samples=2)}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_attacks_reject_bad_batches(case: str, attack: str) -> None:
    make, error, message = BAD_BATCHES[case]
    model = conv_model().train()
    buffers = [b.clone() for b in model.buffers()]
    with pytest.raises(error, match=message):
        ATTACKS[attack](model, *make())
    assert all(torch.equal(a, b) for a, b in zip(buffers, model.buffers(), strict=True))


def test_attacks_reject_a_generator_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match=r"generator must be a torch\.Generator"):
        PGD(0.1, steps=1)(conv_model(), images(), labels(), generator=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("eps", [float("nan"), float("inf"), -0.1, [0.1], "0.1", True])
def test_attacks_reject_bad_radii(eps: object) -> None:
    with pytest.raises(ValueError, match=r"PGD: eps must be a finite number >= 0 or None, got"):
        PGD(eps)  # type: ignore[arg-type]


# uint8 and list images are allowed there (scaled and stacked); images the model does not take fail in its
# first forward pass, with the same message as in the attacks
EVALUATION_BATCHES = [c for c in BAD_BATCHES if c not in ("uint8 images", "list images")]


@pytest.mark.parametrize("case", EVALUATION_BATCHES)
def test_evaluate_robustness_rejects_bad_batches(case: str) -> None:
    make, error, message = BAD_BATCHES[case]
    with pytest.raises(error, match=message):
        evaluate_robustness(conv_model(), *make(), attacks={"fgsm": FGSM(0.1)})


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: (DataLoader(TensorDataset(with_pixel(float("nan")), labels())),),
            ValueError,
            "x must lie in",
        ),
        (
            lambda: (DataLoader(TensorDataset(images(), labels() + CLASSES)),),
            ValueError,
            "y holds labels up to",
        ),
        (lambda: ([],), ValueError, "x yielded no batches"),
        (lambda: ([images()],), ValueError, r"x must yield \(images, labels\) pairs"),
        (lambda: ("images.pt",), TypeError, "x must be an image tensor or an iterable"),
        (lambda: (images(0), labels(0)), ValueError, "x is empty"),
        (lambda: (images(), None), TypeError, "y must be a torch.Tensor"),
    ],
)
def test_evaluate_robustness_rejects_bad_data(
    make: Callable[[], tuple], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        evaluate_robustness(conv_model(), *make(), attacks={"fgsm": FGSM(0.1)})


SETTINGS: dict[str, tuple[dict, type[Exception], str]] = {
    "batch_size 0": ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1, got 0"),
    "batch_size -1": ({"batch_size": -1}, ValueError, "batch_size must be an integer >= 1"),
    "batch_size 2.5": ({"batch_size": 2.5}, ValueError, "batch_size must be an integer >= 1"),
    "epsilons string": ({"epsilons": "0.1"}, ValueError, "epsilons must be a list of numbers"),
    "epsilons scalar": ({"epsilons": 0.1}, ValueError, "epsilons must be a list of numbers"),
    "epsilons nan": ({"epsilons": [float("nan")]}, ValueError, "epsilons entries must be a finite number"),
    "epsilons text entry": ({"epsilons": ["a"]}, ValueError, "epsilons entries must be a finite number"),
    "epsilons mapping": ({"epsilons": {"Linf": "a"}}, ValueError, r"epsilons\['Linf'\] must be a list"),
    "attacks list": ({"attacks": [FGSM(0.1)]}, TypeError, "attacks must be a mapping"),
    "attacks non-callable": ({"attacks": {"fgsm": 0.1}}, TypeError, r"attacks\['fgsm'\] must be a callable"),
    "tolerance 2": ({"tolerance": 2.0}, ValueError, r"tolerance must be a finite number in \[0, 1\]"),
    "seed -1": ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
}


@pytest.mark.parametrize("case", sorted(SETTINGS))
def test_evaluate_robustness_rejects_bad_settings(case: str) -> None:
    overrides, error, message = SETTINGS[case]
    arguments = {"attacks": {"fgsm": FGSM(0.1)}, **overrides}
    with pytest.raises(error, match=message):
        evaluate_robustness(conv_model(), images(), labels(), **arguments)


CALLBACK_SETTINGS: dict[str, tuple[dict, type[Exception], str]] = {
    **SETTINGS,
    "every_n_epochs 0": ({"every_n_epochs": 0}, ValueError, "every_n_epochs must be an integer >= 1"),
    "num_samples 0": ({"num_samples": 0}, ValueError, "num_samples must be an integer >= 1"),
    "num_samples text": ({"num_samples": "all"}, ValueError, "num_samples must be an integer >= 1"),
    "num_images -1": ({"num_images": -1}, ValueError, "num_images must be an integer >= 0"),
}


@pytest.mark.parametrize("case", sorted(CALLBACK_SETTINGS))
def test_the_robustness_callback_rejects_bad_settings(case: str) -> None:
    overrides, error, message = CALLBACK_SETTINGS[case]
    with pytest.raises(error, match=message):
        RobustnessEvaluation(**{"attacks": {"fgsm": FGSM(0.1)}, **overrides})


@pytest.mark.parametrize(
    ("update", "error", "message"),
    [
        (lambda: RobustAccuracy().update(torch.ones(3)), TypeError, "robust must be a boolean mask"),
        (lambda: RobustAccuracy().update(torch.ones(3, 2, dtype=torch.bool)), TypeError, r"shape \(batch,\)"),
        (lambda: RobustAccuracy().update([True]), TypeError, "robust must be a torch.Tensor"),
        (lambda: Rho().update(torch.ones(3, dtype=torch.long)), TypeError, "rho must be a float tensor"),
        (lambda: Rho().update(torch.tensor([0.1, -0.2])), ValueError, "rho must be >= 0"),
        (lambda: Rho().update([0.1]), TypeError, "rho must be a torch.Tensor"),
        (
            lambda: InterraterAgreement(2).update(torch.zeros(2, 3, dtype=torch.long), torch.zeros(3)),
            ValueError,
            "target must be an integer class-index",
        ),
        (
            lambda: InterraterAgreement(2).update([[0], [0]], torch.zeros(1, dtype=torch.long)),
            TypeError,
            "preds must be a torch.Tensor",
        ),
        (lambda: InterraterAgreement(1), ValueError, "num_raters must be an integer >= 2"),
    ],
)
def test_metrics_reject_bad_updates(update: Callable[[], None], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        update()
