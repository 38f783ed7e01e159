"""LayerSampledEnsemble: stage splitting, sub-model initialisation, path sampling and routing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_robust.models import (
    MLP,
    VGG16,
    LayerSampledEnsemble,
    LeNet5,
    PRBasicCNN,
    ResNet18,
    SampledModel,
    split_stages,
)


def small(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    return {
        "basic_cnn": (PRBasicCNN(), (3, 1, 28, 28)),
        "lenet": (LeNet5(hidden=32), (3, 1, 28, 28)),
        "resnet": (ResNet18(in_channels=1, num_classes=4, input_size=8), (3, 1, 8, 8)),
        "vgg": (VGG16(in_channels=1, num_classes=4, input_size=8), (3, 1, 8, 8)),
    }[name]


@pytest.mark.parametrize(("name", "stages"), [("basic_cnn", 4), ("lenet", 4), ("resnet", 6), ("vgg", 6)])
def test_stages_compose_to_the_backbone(name, stages):
    backbone, shape = small(name)
    backbone.eval()
    parts = split_stages(backbone)
    x = torch.rand(shape)
    out = x
    for part in parts:
        out = part(out)
    assert len(parts) == stages
    torch.testing.assert_close(out, backbone(x))
    owned = {id(p) for p in backbone.parameters()}
    assert {id(p) for part in parts for p in part.parameters()} == owned


def test_sequential_stages_start_at_each_layer_with_parameters():
    stages = split_stages(
        nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Dropout(), nn.Linear(3, 2))
    )
    assert [[type(m).__name__ for m in s] for s in stages] == [
        ["Flatten", "Linear", "ReLU", "Dropout"],
        ["Linear"],
    ]


def test_a_stages_method_is_used_and_other_modules_are_refused():
    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 2)

        def stages(self) -> list[nn.Module]:
            return [self.a, self.b]

    custom = Custom()
    assert split_stages(custom) == [custom.a, custom.b]
    with pytest.raises(TypeError, match="stages"):
        split_stages(nn.LSTM(2, 2))


def test_sub_models_are_fresh_draws_of_the_same_initialisation():
    backbone = LeNet5(hidden=32)
    original = [p.detach().clone() for p in backbone.parameters()]
    ensemble = LayerSampledEnsemble(backbone, num_models=3, generator=torch.Generator().manual_seed(0))
    for stage in ensemble.layers:
        first = list(stage[0].parameters())
        for other in stage[1:]:
            for p, q in zip(first, other.parameters(), strict=True):
                assert p is not q
                torch.testing.assert_close(p.flatten().sort().values, q.flatten().sort().values)
                if p.numel() > 1 and p.std() > 0:
                    assert not torch.equal(p, q)
    for p, q in zip(original, backbone.parameters(), strict=True):
        assert torch.equal(p, q)  # sub-model 0 is the backbone itself


def test_path_of_sub_model_zero_is_the_backbone_and_others_differ():
    backbone = PRBasicCNN()
    ensemble = LayerSampledEnsemble(backbone, num_models=2)
    x = torch.rand(2, 1, 28, 28)
    zeros = torch.zeros(ensemble.num_stages, dtype=torch.long)
    torch.testing.assert_close(ensemble(x, zeros), backbone(x))
    assert not torch.allclose(ensemble(x, torch.ones_like(zeros)), backbone(x))
    torch.testing.assert_close(SampledModel(ensemble, zeros)(x), backbone(x))


def test_paths_are_enumerated_and_distinct():
    ensemble = LayerSampledEnsemble(MLP(hidden_sizes=[8, 8], input_size=4), num_models=2)
    paths = [tuple(p.tolist()) for p in ensemble.paths()]
    assert ensemble.num_paths == 2**3 == len(set(paths)) == len(paths)


def test_sampling_follows_the_generator_and_mu():
    backbone = MLP(hidden_sizes=[8], input_size=4)
    ensemble = LayerSampledEnsemble(backbone, num_models=3, probabilities=[0.0, 0.2, 0.8])
    a = ensemble.sample_paths(500, torch.Generator().manual_seed(1))
    b = ensemble.sample_paths(500, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (500, ensemble.num_stages)
    assert (a != 0).all()
    assert 0.7 < (a == 2).double().mean() < 0.9


@pytest.mark.parametrize("mu", [[0.5, 0.6], [1.0], [-0.5, 1.5]])
def test_invalid_probabilities_are_refused(mu):
    with pytest.raises(ValueError, match="probabilities"):
        LayerSampledEnsemble(MLP(hidden_sizes=[8], input_size=4), num_models=2, probabilities=mu)


def test_one_path_per_batch_by_default():
    ensemble = LayerSampledEnsemble(PRBasicCNN(), num_models=2).eval()
    x = torch.rand(4, 1, 28, 28)
    out = ensemble(x)
    assert any(torch.allclose(out, ensemble(x, path)) for path in ensemble.paths())


def test_per_sample_paths_route_each_image_through_its_own_path():
    ensemble = LayerSampledEnsemble(LeNet5(hidden=32), num_models=2, per_sample=True).eval()
    x = torch.rand(6, 1, 28, 28)
    paths = ensemble.sample_paths(6, torch.Generator().manual_seed(3))
    out = ensemble(x, paths)
    for i in range(6):
        torch.testing.assert_close(out[i : i + 1], ensemble(x[i : i + 1], paths[i]))
    assert ensemble(x).shape == (6, 10)
    with pytest.raises(ValueError, match="one entry per stage"):
        ensemble(x, paths[:, :2])


def test_gradients_reach_only_the_sampled_stages():
    ensemble = LayerSampledEnsemble(PRBasicCNN(), num_models=2)
    path = torch.tensor([0, 1, 0, 1])
    ensemble(torch.rand(2, 1, 28, 28), path).sum().backward()
    for index, stage in enumerate(ensemble.layers):
        for m, module in enumerate(stage):
            grads = [p.grad for p in module.parameters()]
            assert all((g is not None) == (m == path[index]) for g in grads)
