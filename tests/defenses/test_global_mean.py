from __future__ import annotations

import torch

from lit_robust.defenses.global_mean import global_mean


def test_without_ddp_it_is_the_mean_with_its_gradient():
    values = torch.tensor([1.0, 2.0, 6.0], requires_grad=True)
    mean = global_mean(values)
    torch.testing.assert_close(mean, torch.tensor(3.0))
    (grad,) = torch.autograd.grad(mean, values)
    torch.testing.assert_close(grad, torch.full((3,), 1 / 3))


def test_no_selected_points_give_zero():
    torch.testing.assert_close(global_mean(torch.zeros(0)), torch.tensor(0.0))
