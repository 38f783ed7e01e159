from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lit_robust.defenses import TRADES, TradesAttack
from lit_robust.defenses.trades import kl_to
from lit_robust.losses import TripletRegularizer
from lit_robust.models import MLP

pytestmark = pytest.mark.filterwarnings("ignore:You are trying to `self.log")


def model(**kwargs) -> TRADES:
    torch.manual_seed(0)
    return TRADES(MLP(1, 3, 4, [16]), **(dict(num_classes=3, eps=0.1, steps=5, step_size=0.03) | kwargs))


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(6, 1, 4, 4, generator=generator), torch.tensor([0, 1, 2, 0, 1, 2])


def test_kl_to_is_the_per_sample_kl_divergence():
    clean, other = torch.randn(4, 3), torch.randn(4, 3)
    p, q = clean.softmax(1), other.softmax(1)
    torch.testing.assert_close(kl_to(clean)(other), (p * (p.log() - q.log())).sum(1))
    torch.testing.assert_close(kl_to(clean)(clean), torch.zeros(4), atol=1e-6, rtol=0)


def test_trades_attack_stays_in_the_ball_and_increases_the_kl():
    defense = model()
    x, y = batch()
    x_adv = TradesAttack(eps=0.1, steps=5, step_size=0.03, seed=0)(defense, x, y)
    assert (x_adv - x).abs().max() <= 0.1 + 1e-6
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    start = (x + 0.001 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    with torch.no_grad():
        kl = kl_to(defense(x))
        assert kl(defense(x_adv)).mean() > 10 * kl(defense(start)).mean()


def test_loss_is_cross_entropy_plus_beta_times_kl():
    x, y = batch()
    ce = F.cross_entropy(model()(x), y)
    torch.testing.assert_close(model(beta=0.0).training_loss(x, y).loss, ce)
    torch.manual_seed(1)
    loss_1 = model(beta=1.0).training_loss(x, y).loss
    torch.manual_seed(1)
    loss_6 = model(beta=6.0).training_loss(x, y).loss
    assert loss_1 > ce
    # same random start, so the same x': the KL part scales with beta
    torch.testing.assert_close(loss_6 - ce, 6 * (loss_1 - ce), rtol=1e-4, atol=1e-6)


def test_triplet_term_is_added_to_the_trades_loss():
    x, y = batch()
    torch.manual_seed(1)
    plain = model().training_loss(x, y).loss
    torch.manual_seed(1)
    regularised = model(triplet=TripletRegularizer(weight=1.0, alpha=100.0)).training_loss(x, y).loss
    assert regularised > plain + 90


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="beta"):
        model(beta=-1.0)
    with pytest.raises(ValueError, match="attack_mode"):
        model(attack_mode="test")
    with pytest.raises(ValueError, match="norm"):
        model(norm="L1")
