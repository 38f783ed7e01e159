from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_robust.models import Critic, GaussianNoise


def test_the_label_selects_one_output_per_image():
    critic = Critic(in_channels=1, num_classes=3, input_size=4, hidden_sizes=[8, 8]).eval()
    x, y = torch.rand(5, 1, 4, 4), torch.tensor([0, 2, 1, 2, 0])
    out = critic(x, y)
    assert out.shape == (5,)
    all_outputs = critic.layers(x)
    torch.testing.assert_close(out, all_outputs[torch.arange(5), y])


def test_the_papers_architecture_and_noise_only_in_training():
    critic = Critic()
    linears = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 1200), (1200, 1200), (1200, 10)]
    assert [m.std for m in critic.modules() if isinstance(m, GaussianNoise)] == [0.1, 0.5, 0.5]
    assert all(m.negative_slope == 0.2 for m in critic.modules() if isinstance(m, nn.LeakyReLU))
    x, y = torch.rand(2, 1, 28, 28), torch.tensor([3, 4])
    assert not torch.equal(critic.train()(x, y), critic(x, y))
    torch.testing.assert_close(critic.eval()(x, y), critic(x, y))


def test_negative_noise_is_rejected():
    with pytest.raises(ValueError, match="std"):
        Critic(hidden_noise=-1.0)
