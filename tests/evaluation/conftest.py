"""Fixtures of the evaluation tests: a small model trained on synthetic blobs, and a crafted "code" model
whose decisions and attacks are known exactly."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from lit_robust.attacks import Attack

NUM_CLASSES = 5
SHAPE = (1, 8, 8)


def make_blobs(count: int, seed: int) -> tuple[Tensor, Tensor]:
    """Class-dependent Gaussian blobs in [0, 1] (float64, so batch composition cannot flip a decision)."""
    means = torch.rand(NUM_CLASSES, *SHAPE, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(NUM_CLASSES, (count,), generator=generator)
    noise = 0.3 * torch.randn(count, *SHAPE, generator=generator, dtype=torch.float64)
    return (0.2 + 0.6 * means[y] + noise).clamp(0.0, 1.0), y


@pytest.fixture(scope="package")
def blobs_model() -> nn.Module:
    """An MLP trained on the blobs (float64, eval mode; 99% test accuracy)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, NUM_CLASSES)).double()
    x, y = make_blobs(512, seed=1)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(100):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    return net.eval().requires_grad_(False)


@pytest.fixture(scope="package")
def blobs() -> tuple[Tensor, Tensor]:
    """300 held-out blobs."""
    return make_blobs(300, seed=2)


class CodeModel(nn.Module):
    """Three classes coded by pixel ``(0, 0)``: the class is the nearest of 0, 0.5 and 1."""

    def forward(self, x: Tensor) -> Tensor:
        centres = torch.tensor([0.0, 0.5, 1.0], dtype=x.dtype, device=x.device)
        return -((x[:, 0, 0, 0, None] - centres) ** 2) * 100


class FlagAttack(Attack):
    """Moves pixel (0, 0) up by ``eps`` (down where it is above 0.5), only on points whose pixel ``(0, flag)``
    is above 0.5; counts the points it is called on."""

    def __init__(self, eps: float, flag: int) -> None:
        super().__init__(eps)
        self.flag = flag
        self.calls: list[int] = []

    def perturb(self, model, x, y, generator):
        self.calls.append(len(x))
        flagged = x[:, 0, 0, self.flag] > 0.5
        direction = torch.where(x[:, 0, 0, 0] > 0.5, -1.0, 1.0).to(x.dtype)
        x_adv = x.clone()
        x_adv[:, 0, 0, 0] += torch.where(flagged, direction * self.eps, 0.0)
        return x_adv


def code_images(count: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Images of :class:`CodeModel`: class pixel at a class centre, flag pixels (0, 1) and (0, 2) random,
    the rest random; labels are right except for every 7th point."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(3, (count,), generator=generator)
    x = torch.rand(count, 1, 4, 4, generator=generator, dtype=torch.float64)
    x[:, 0, 0, 0] = y.double() / 2
    y = torch.where(torch.arange(count) % 7 == 0, (y + 1) % 3, y)
    return x, y


@pytest.fixture
def code() -> tuple[nn.Module, Tensor, Tensor]:
    return (CodeModel(), *code_images(200))
