"""Property tests of the attack contract: every attack, across shapes, norms, radii, dtypes and modes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from lit_robust.attacks import (
    APGD,
    APGDT,
    BIM,
    EAD,
    EOT,
    FAB,
    FGSM,
    ILL,
    LL,
    MIM,
    PGD,
    Attack,
    CarliniWagnerL2,
    DeepFool,
    HighConfidence,
    Square,
    flat_norm,
)

BOUNDED: dict[str, Callable[[float, str], Attack]] = {
    "FGSM": lambda eps, norm: FGSM(eps),
    "LL": lambda eps, norm: LL(eps),
    "BIM": lambda eps, norm: BIM(eps, steps=3),
    "ILL": lambda eps, norm: ILL(eps, steps=3),
    "MIM": lambda eps, norm: MIM(eps, steps=3),
    "PGD": lambda eps, norm: PGD(eps, steps=3, norm=norm, restarts=2),
    "PGD-targeted": lambda eps, norm: PGD(eps, steps=3, norm=norm, targeted=True, target="random"),
    "APGD-ce": lambda eps, norm: APGD(eps, norm=norm, steps=4, restarts=2),
    "APGD-dlr-targeted": lambda eps, norm: APGD(eps, norm=norm, steps=4, loss="dlr", targeted=True),
    "EOT-PGD": lambda eps, norm: EOT(PGD(eps, steps=2, norm=norm), samples=2),
    "APGDT": lambda eps, norm: APGDT(eps, norm=norm, steps=3, num_target_classes=2, early_stop=True),
    "FAB-T-bounded": lambda eps, norm: FAB(eps, norm=norm, steps=3, num_target_classes=2, restarts=2),
    "FAB-bounded": lambda eps, norm: FAB(eps, norm=norm, steps=3, targeted=False, early_stop=True),
    "Square": lambda eps, norm: Square(eps, norm=norm, queries=6, restarts=2),
    "Square-EOT": lambda eps, norm: Square(eps, norm=norm, queries=4, eot_samples=2),
}
MINIMUM_NORM: dict[str, Callable[[], Attack]] = {
    "CW": lambda: CarliniWagnerL2(binary_search_steps=2, steps=4, c=1.0),
    "CW-targeted": lambda: CarliniWagnerL2(binary_search_steps=2, steps=4, targeted=True, target="closest"),
    "EAD": lambda: EAD(binary_search_steps=2, steps=4, c=1.0, decision_rule="L1"),
    "DeepFool": lambda: DeepFool(steps=3, max_step_norm=0.5),
    "HighConfidence": lambda: HighConfidence(steps=3),
    "FAB": lambda: FAB(steps=3, targeted=False, restarts=2),
    "FAB-T": lambda: FAB(norm="L2", steps=3, num_target_classes=2),
}


def small_model(channels: int, classes: int) -> nn.Module:
    """A conv net with batch norm and dropout, so train and eval mode compute different things."""
    return nn.Sequential(
        nn.Conv2d(channels, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, classes),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[nn.Module, Tensor, Tensor]:
    """A model in train or eval mode and a batch in [0, 1] with some pixels exactly on the box edges."""
    batch = draw(st.integers(1, 4))
    channels = draw(st.sampled_from([1, 3]))
    height, width = draw(st.integers(2, 6)), draw(st.integers(2, 6))
    classes = draw(st.integers(4, 6))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    torch.manual_seed(draw(st.integers(0, 2**16)))
    model = small_model(channels, classes).to(dtype).train(draw(st.booleans()))
    x = torch.rand(batch, channels, height, width, generator=generator, dtype=dtype)
    edges = torch.rand(x.shape, generator=generator) < 0.2
    x = torch.where(edges, x.round(), x)
    y = torch.randint(classes, (batch,), generator=generator)
    return model, x, y


def model_state(model: nn.Module) -> tuple[list, list, list, list]:
    """Everything an attack must leave as it found: parameters, their gradients, buffers and modes."""
    return (
        [p.detach().clone() for p in model.parameters()],
        [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        [b.clone() for b in model.buffers()],
        [m.training for m in model.modules()],
    )


def assert_same_state(before: tuple[list, list, list, list], after: tuple[list, list, list, list]) -> None:
    for name, old, new in zip(("parameters", "gradients", "buffers", "modes"), before, after, strict=True):
        same = [torch.equal(a, b) if isinstance(a, Tensor) else a == b for a, b in zip(old, new, strict=True)]
        assert all(same), f"the attack changed the model's {name}"


def check_contract(attack: Attack, model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    state = model_state(model)
    x_before = x.clone()
    x_adv = attack(model, x, y)
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype and x_adv.device == x.device
    assert not x_adv.requires_grad and x_adv.grad_fn is None
    assert torch.equal(x, x_before), "the attack modified its input"
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert_same_state(state, model_state(model))
    return x_adv


@settings(max_examples=30, deadline=None)
@given(
    case=cases(),
    name=st.sampled_from(sorted(BOUNDED)),
    eps=st.floats(0.0, 0.5),
    norm=st.sampled_from(["Linf", "L2"]),
)
def test_bounded_attacks_stay_inside_the_threat_model(
    case: tuple[nn.Module, Tensor, Tensor], name: str, eps: float, norm: str
) -> None:
    model, x, y = case
    attack = BOUNDED[name](eps, norm)
    x_adv = check_contract(attack, model, x, y)
    tolerance = 1e-6 if x.dtype == torch.float32 else 1e-12
    assert (flat_norm(x_adv - x, attack.norm) <= eps + tolerance).all()


@settings(max_examples=20, deadline=None)
@given(case=cases(), name=st.sampled_from(sorted(MINIMUM_NORM)))
def test_minimum_norm_attacks_keep_the_contract(case: tuple[nn.Module, Tensor, Tensor], name: str) -> None:
    model, x, y = case
    attack = MINIMUM_NORM[name]()
    assert attack.minimum_norm and attack.eps is None
    check_contract(attack, model, x, y)


@pytest.mark.parametrize("context", [torch.inference_mode, torch.no_grad])
def test_attacks_work_inside_gradient_free_contexts(
    context: Callable[[], object], model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:32], data[1][:32]
    expected = PGD(0.1, steps=5, seed=0)(model, x, y)
    with context():  # type: ignore[attr-defined]
        x_adv = PGD(0.1, steps=5, seed=0)(model, x, y)
        x_adv_inner = PGD(0.1, steps=5, seed=0)(model, x.clone(), y.clone())  # tensors made in the context
    assert torch.equal(x_adv, expected) and torch.equal(x_adv_inner, expected)


@pytest.mark.parametrize(
    "make",
    [
        lambda: PGD(0.1, steps=5),
        lambda: PGD(1.0, steps=5, norm="L2", restarts=2),
        lambda: APGD(0.1, steps=5),
        lambda: PGD(0.1, steps=5, targeted=True, target="random"),
        lambda: APGDT(0.1, steps=5, num_target_classes=2),
        lambda: Square(0.1, queries=20),
        lambda: Square(1.0, norm="L2", queries=20),
        lambda: FAB(norm="L2", steps=5, targeted=False, restarts=2),
    ],
)
def test_same_generator_seed_gives_the_same_output(
    make: Callable[[], Attack], model: nn.Module, data: tuple[Tensor, Tensor]
) -> None:
    x, y = data[0][:32], data[1][:32]
    attack = make()
    first = attack(model, x, y, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(123)  # the global RNG must not matter
    second = attack(model, x, y, generator=torch.Generator().manual_seed(1))
    other = attack(model, x, y, generator=torch.Generator().manual_seed(2))
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_seed_argument_makes_calls_deterministic(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:32], data[1][:32]
    attack = PGD(0.1, steps=5, seed=7)
    assert torch.equal(attack(model, x, y), attack(model, x, y))


def test_with_eps_copies_and_rescales_the_default_step(model: nn.Module, data: tuple[Tensor, Tensor]) -> None:
    x, y = data[0][:64], data[1][:64]
    attack = BIM(0.1, steps=10)
    smaller = attack.with_eps(0.05)
    assert attack.eps == 0.1 and smaller.eps == 0.05
    assert torch.equal(smaller(model, x, y), BIM(0.05, steps=10)(model, x, y))
    wrapped = EOT(PGD(0.1), samples=3).with_eps(0.2)
    assert wrapped.eps == 0.2 and wrapped.samples == 3 and wrapped.norm == "Linf"


@pytest.mark.parametrize("name", sorted(BOUNDED) + sorted(MINIMUM_NORM))
def test_seeded_attacks_on_a_train_mode_model_are_repeatable_and_change_nothing(name: str) -> None:
    # batch norm in train mode normalises with batch statistics and dropout is active, as a defense that
    # crafts in train mode chooses; the running statistics are restored and dropout is seeded from the
    # attack's generator, so two calls agree and the global random stream is untouched.
    torch.manual_seed(0)
    model = small_model(1, 5).train()
    model[-1].weight.grad = torch.ones_like(model[-1].weight)
    x, y = torch.rand(6, 1, 5, 5), torch.arange(6) % 5
    attack = BOUNDED[name](0.1, "L2") if name in BOUNDED else MINIMUM_NORM[name]()
    state = model_state(model)
    global_rng = torch.get_rng_state()
    first = attack(model, x, y, generator=torch.Generator().manual_seed(3))
    second = attack(model, x, y, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first, second)
    assert torch.equal(torch.get_rng_state(), global_rng)
    assert_same_state(state, model_state(model))


def test_train_mode_is_kept_and_parameters_untouched(data: tuple[Tensor, Tensor]) -> None:
    model = small_model(1, 10).train()
    model[-1].weight.grad = torch.ones_like(model[-1].weight)  # an optimiser's pending gradient
    x, y = data[0][:16], data[1][:16]
    for attack in [PGD(0.1, steps=2), DeepFool(steps=2), CarliniWagnerL2(binary_search_steps=1, steps=2)]:
        attack(model, x, y)
        assert model.training and all(m.training for m in model.modules())
        assert torch.equal(model[-1].weight.grad, torch.ones_like(model[-1].weight))
        assert model[0].weight.grad is None


@pytest.mark.parametrize("name", sorted(BOUNDED) + sorted(MINIMUM_NORM))
def test_an_empty_batch_gives_an_empty_batch(name: str) -> None:
    attack = BOUNDED[name](0.1, "L2") if name in BOUNDED else MINIMUM_NORM[name]()
    x = torch.rand(0, 1, 4, 4)
    assert attack(small_model(1, 5), x, torch.zeros(0, dtype=torch.long)).shape == x.shape
