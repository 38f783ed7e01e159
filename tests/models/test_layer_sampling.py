"""LayerSampledEnsemble: sub-model initialisation, path sampling, per-unit parameters, routing."""

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
    ResNet50,
    SampledModel,
)


def unit_parameters(ensemble: LayerSampledEnsemble, unit: int, model: int) -> list[nn.Parameter]:
    sub_model = ensemble.models[model]
    return [
        p for name in ensemble.units[unit] for p in sub_model.get_submodule(name).parameters(recurse=False)
    ]


@pytest.mark.parametrize(
    ("backbone", "paths"),
    [
        # The configs' backbones (configs/layer_sampling/, docs/results/layer_sampling.md): M=2.
        (ResNet50(in_channels=3, input_size=32), 2**54),  # cifar10_resnet50, svhn_resnet50
        (ResNet50(in_channels=1, input_size=28), 2**54),  # mnist_resnet50
        (VGG16(in_channels=3, input_size=32), 2**14),  # cifar10_vgg16
        (PRBasicCNN(in_channels=1, input_size=28), 2**4),  # fashion_mnist_cpu
    ],
)
def test_per_layer_path_counts_of_the_configs(backbone, paths):
    assert LayerSampledEnsemble(backbone, num_models=2).num_paths == paths


def test_stage_granularity_is_an_option():
    ensemble = LayerSampledEnsemble(ResNet18(num_classes=4, input_size=8), granularity="stage")
    assert ensemble.num_units == 6 and ensemble.num_paths == 64


def test_sub_models_are_fresh_draws_of_the_same_initialisation():
    backbone = LeNet5(hidden=32)
    original = [p.detach().clone() for p in backbone.parameters()]
    ensemble = LayerSampledEnsemble(backbone, num_models=3, generator=torch.Generator().manual_seed(0))
    assert ensemble.models[0] is backbone
    for other in ensemble.models[1:]:
        for p, q in zip(backbone.parameters(), other.parameters(), strict=True):
            assert p is not q
            torch.testing.assert_close(p.flatten().sort().values, q.flatten().sort().values)
            if p.numel() > 1 and p.std() > 0:
                assert not torch.equal(p, q)
    for p, q in zip(original, backbone.parameters(), strict=True):
        assert torch.equal(p, q)  # sub-model 0 is the backbone itself


def test_a_path_takes_each_layer_from_its_sub_model():
    backbone = PRBasicCNN()
    ensemble = LayerSampledEnsemble(backbone, num_models=2).eval()
    x = torch.rand(2, 1, 28, 28)
    zeros = torch.zeros(ensemble.num_units, dtype=torch.long)
    torch.testing.assert_close(ensemble(x, zeros), backbone(x))
    torch.testing.assert_close(ensemble(x, torch.ones_like(zeros)), ensemble.models[1](x))
    torch.testing.assert_close(SampledModel(ensemble, zeros)(x), backbone(x))
    first, second = list(ensemble.models[0]), list(ensemble.models[1])  # conv, ReLU x3, flatten, dense
    by_hand = nn.Sequential(*second[:2], *first[2:7], second[7])
    torch.testing.assert_close(ensemble(x, torch.tensor([1, 0, 0, 1])), by_hand(x))


def test_paths_are_enumerated_and_distinct():
    ensemble = LayerSampledEnsemble(MLP(hidden_sizes=[8, 8], input_size=4), num_models=2)
    paths = [tuple(p.tolist()) for p in ensemble.paths()]
    assert ensemble.num_paths == 2**3 == len(set(paths)) == len(paths)


def test_sampling_follows_the_generator_and_mu():
    backbone = MLP(hidden_sizes=[8], input_size=4)
    ensemble = LayerSampledEnsemble(backbone, num_models=3, probabilities=[0.0, 0.2, 0.8])
    a = ensemble.sample_paths(500, torch.Generator().manual_seed(1))
    b = ensemble.sample_paths(500, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (500, ensemble.num_units)
    assert (a != 0).all()
    assert 0.7 < (a == 2).double().mean() < 0.9


def test_distinct_paths_are_all_different_and_limited_by_mu():
    ensemble = LayerSampledEnsemble(MLP(hidden_sizes=[8, 8], input_size=4), num_models=2)
    paths = ensemble.sample_paths(8, torch.Generator().manual_seed(0), distinct=True)
    assert len({tuple(p) for p in paths.tolist()}) == 8 == ensemble.num_paths
    with pytest.raises(ValueError, match="9 distinct paths"):
        ensemble.sample_paths(9, distinct=True)
    skewed = LayerSampledEnsemble(MLP(hidden_sizes=[8], input_size=4), num_models=2, probabilities=[0.0, 1.0])
    with pytest.raises(ValueError, match="1 of non-zero mu"):
        skewed.sample_paths(2, distinct=True)


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
    paths[1] = paths[0]  # two images on one path share a forward pass
    out = ensemble(x, paths)
    for i in range(6):
        torch.testing.assert_close(out[i : i + 1], ensemble(x[i : i + 1], paths[i]))
    assert ensemble(x).shape == (6, 10)
    with pytest.raises(ValueError, match="one entry per sampling unit"):
        ensemble(x, paths[:, :2])


def test_gradients_reach_only_the_sampled_layers():
    ensemble = LayerSampledEnsemble(PRBasicCNN(), num_models=2)
    path = torch.tensor([0, 1, 0, 1])
    ensemble(torch.rand(2, 1, 28, 28), path).sum().backward()
    for unit in range(ensemble.num_units):
        for m in range(2):
            grads = [p.grad for p in unit_parameters(ensemble, unit, m)]
            assert all((g is not None) == (m == path[unit]) for g in grads)


def test_batch_norm_statistics_update_in_the_sampled_sub_model_only():
    ensemble = LayerSampledEnsemble(ResNet18(num_classes=4, input_size=8), num_models=2).train()
    before = [[bn.running_mean.clone() for bn in model.modules() if isinstance(bn, nn.BatchNorm2d)]
              for model in ensemble.models]  # fmt: skip
    path = torch.zeros(ensemble.num_units, dtype=torch.long)
    path[0] = 1  # the stem (conv1, bn1) from sub-model 1
    ensemble(torch.rand(4, 3, 8, 8), path)
    stem = [ensemble.models[m].bn1 for m in range(2)]
    assert not torch.equal(stem[1].running_mean, before[1][0])
    assert torch.equal(stem[0].running_mean, before[0][0])
    assert stem[1].num_batches_tracked == 1 and stem[0].num_batches_tracked == 0
    assert not torch.equal(ensemble.models[0].layer1[0].bn1.running_mean, before[0][1])
    assert torch.equal(ensemble.models[1].layer1[0].bn1.running_mean, before[1][1])
