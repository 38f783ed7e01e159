"""`RobustClassifier`'s performance options: ``compile`` and ``channels_last``."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lit_robust.attacks import PGD
from lit_robust.defenses import AdversarialTraining, RobustClassifier
from lit_robust.models import PRBasicCNN


def make(**kwargs: object) -> RobustClassifier:
    torch.manual_seed(0)
    backbone = PRBasicCNN(in_channels=1, num_classes=4, input_size=28)
    return RobustClassifier(backbone, num_classes=4, mean=[0.5], std=[0.25], **kwargs)


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(6, 1, 28, 28, generator=generator), torch.tensor([0, 1, 2, 3, 0, 1])


def conv_weights(model: nn.Module) -> list[torch.Tensor]:
    return [p for p in model.parameters() if p.dim() == 4]


def test_options_are_off_by_default():
    model = make()
    assert model.backbone._compiled_call_impl is None
    assert all(w.is_contiguous() for w in conv_weights(model))
    assert not model.hparams.compile and not model.hparams.channels_last


def test_channels_last_keeps_the_model_and_its_gradients():
    plain, fast = make().eval(), make(channels_last=True).eval()
    weights = conv_weights(fast)
    assert weights and all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    x, y = batch()
    assert fast.backbone[0](x).is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast(x), plain(x))
    attack = PGD(0.1, steps=3, seed=0)
    torch.testing.assert_close(attack(fast, x, y), attack(plain, x, y))
    F.cross_entropy(fast(x), y).backward()
    assert all(w.grad is not None and w.grad.shape == w.shape for w in weights)


def test_compile_is_in_place_and_keeps_parameter_names():
    plain, compiled = make(), make(compile=True)
    assert compiled.backbone._compiled_call_impl is not None  # lazy: nothing compiled until the first call
    assert list(compiled.state_dict()) == list(plain.state_dict())
    defense = AdversarialTraining(
        PRBasicCNN(in_channels=1, num_classes=4, input_size=28), PGD(0.1), compile=True
    )
    assert defense.backbone._compiled_call_impl is not None and defense.hparams.compile


@pytest.mark.slow  # inductor compiles the graphs with the C++ compiler: about 30 s on a cold cache
def test_compiled_backbone_gives_the_same_logits_and_input_gradients():
    plain, compiled = make().eval(), make(compile=True).eval()
    x, y = batch()
    torch.testing.assert_close(compiled(x), plain(x), rtol=1e-4, atol=1e-5)
    attack = PGD(0.1, steps=2, seed=0)
    torch.testing.assert_close(attack(compiled, x, y), attack(plain, x, y), rtol=0, atol=1e-6)
