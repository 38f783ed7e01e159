"""Pass counting: the hooks, and the per-attack and total counts of an evaluation."""

from __future__ import annotations

import copy

import pytest
import torch

from lit_robust.attacks import BIM, FGSM
from lit_robust.evaluation import evaluate_robustness
from lit_robust.evaluation.counting import PassCounts, counting


def test_forward_and_backward_images_are_counted_and_the_hooks_removed(blobs_model, blobs):
    x = blobs[0][:6].clone().requires_grad_(True)
    counts = PassCounts()
    with counting(blobs_model, counts) as model:
        assert model is blobs_model
        logits = model(x)
        torch.autograd.grad(logits.sum(), x, retain_graph=True)
        torch.autograd.grad(logits.sum(), x)
        with torch.no_grad():
            model(x[:2])
    assert (counts.forward, counts.backward) == (8, 12)
    blobs_model(x)
    assert counts.forward == 8


def test_a_plain_callable_is_counted_through_a_wrapper(blobs_model, blobs):
    counts = PassCounts()
    with counting(lambda x: blobs_model(x), counts) as model:
        model(blobs[0][:3])
    assert (counts.forward, counts.backward) == (3, 0)


def test_the_report_gives_each_attack_its_cost_and_the_total(blobs_model, blobs):
    x, y = blobs
    report = evaluate_robustness(
        blobs_model, x, y, {"fgsm": FGSM(0.1), "bim": BIM(0.1, steps=4)}, [0.05, 0.1]
    )
    robust = report.white_box.robust
    clean = int(report.white_box.clean.sum())
    fgsm_points = clean + int(robust["fgsm"][0.05].sum())  # attacked at 0.05, then the survivors at 0.1
    # one gradient per attacked point, then the judging of its example
    assert report.passes("fgsm") == (2 * fgsm_points, fgsm_points)
    bim_forward, bim_backward = report.passes("bim")
    assert 0 < bim_backward <= 4 * (clean + int(robust["bim"][0.05].sum())) < bim_forward
    total = report.passes()
    assert total[0] == len(y) + 2 * fgsm_points + bim_forward and total[1] == fgsm_points + bim_backward
    cost = report.to_dict()["cost"]
    assert cost["forward_passes"] == total[0] and cost["backward_passes/bim"] == bim_backward
    assert f"forward_passes/fgsm: {2 * fgsm_points:,}" in str(report)


def test_a_torchattacks_adapter_is_counted_by_the_hooks(blobs_model, blobs):
    torchattacks = pytest.importorskip("torchattacks")
    x, y = blobs
    x, model = x.float(), copy.deepcopy(blobs_model).float()
    ta_fgsm = torchattacks.FGSM(model, eps=0.1)
    report = evaluate_robustness(model, x, y, {"ta": lambda model, x, y: ta_fgsm(x, y)}, [0.1])
    clean = int(report.white_box.clean.sum())
    assert report.passes("ta") == (2 * clean, clean)
