from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_robust.attacks import BPDA, EOT, FGSM, CarliniWagnerL2
from lit_robust.evaluation import (
    RedrawnStart,
    case_accuracy,
    evaluate_cases,
    evaluate_robustness,
    pixel_redrawn_cases,
)
from lit_robust.models import PixelRedrawer

EPS = 0.05


@pytest.fixture
def setting():
    """A small linear classifier, images it classifies correctly, and a seeded (fixed-function) redrawer."""
    torch.manual_seed(0)
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(36, 3)).eval()
    x = torch.rand(24, 1, 6, 6)
    with torch.no_grad():
        y = classifier(x).argmax(dim=1)
    return classifier, PixelRedrawer(steps=300, redraw_seed=3), x, y


def test_case_b_is_plain_white_box_evaluation(setting):
    classifier, redrawer, x, y = setting
    reports = evaluate_cases(classifier, redrawer, x, y, {"fgsm": FGSM(EPS)}, [EPS], cases=["B"])
    direct = evaluate_robustness(classifier, x, y, {"fgsm": FGSM(EPS)}, [EPS])
    assert case_accuracy(reports["B"]) == 1.0
    assert case_accuracy(reports["B"], "fgsm", EPS) == direct.accuracy("fgsm", EPS) < 1.0


def test_normal_and_case_a_judge_through_the_redraw(setting):
    classifier, redrawer, x, y = setting
    reports = evaluate_cases(classifier, redrawer, x, y, {"fgsm": FGSM(EPS)}, [EPS], cases=["normal", "A"])
    with torch.no_grad():
        clean = classifier(redrawer(x)).argmax(1) == y
        index = clean.nonzero().squeeze(1)
        x_adv = FGSM(EPS)(classifier, x[index], y[index])  # crafted on F, ignoring PR
        robust = classifier(redrawer(x_adv)).argmax(1) == y[index]
    assert case_accuracy(reports["normal"]) == pytest.approx(clean.float().mean().item())
    assert 0 < case_accuracy(reports["normal"]) < 1
    assert case_accuracy(reports["A"], "fgsm", EPS) == pytest.approx(robust.float().sum().item() / len(y))


def test_paper_approximation_attacks_from_the_redrawn_image(setting):
    classifier, redrawer, x, y = setting
    attack = RedrawnStart(FGSM(EPS), redrawer)
    assert (attack.eps, attack.norm, attack.minimum_norm) == (EPS, "Linf", False)
    assert attack.with_eps(0.1).eps == 0.1
    x_adv = attack(classifier, x, y)
    start = redrawer(x)
    assert (x_adv - start).abs().max() <= EPS + 1e-6
    assert (x_adv - x).abs().max() > EPS  # outside the eps-ball of x: the paper's large distortion
    assert RedrawnStart(CarliniWagnerL2(), redrawer).minimum_norm


def test_cases_compose_bpda_eot_and_transfer(setting):
    classifier, redrawer, *_ = setting
    cases = pixel_redrawn_cases(classifier, redrawer, eot_samples=4)
    assert cases["B"].judged is classifier and cases["B"].source is None
    assert isinstance(cases["A"].judged, BPDA) and cases["A"].source is classifier
    assert isinstance(cases["D (paper)"].wrap(FGSM(EPS)), RedrawnStart)
    adaptive = cases["D (adaptive)"].wrap(FGSM(EPS))
    assert isinstance(adaptive, EOT) and adaptive.samples == 4
    assert cases["D (adaptive)"].source is None and isinstance(cases["C (adaptive)"].source, BPDA)
    assert cases["C (adaptive)"].judged is classifier


def test_every_case_runs_and_is_bounded_by_its_clean_accuracy(setting):
    classifier, redrawer, x, y = setting
    reports = evaluate_cases(classifier, redrawer, x, y, {"fgsm": FGSM(EPS)}, [EPS], eot_samples=2)
    assert set(reports) == {"normal", "A", "B", "C (paper)", "D (paper)", "C (adaptive)", "D (adaptive)"}
    for name, report in reports.items():
        if name != "normal":
            assert 0.0 <= case_accuracy(report, "fgsm", EPS) <= case_accuracy(report)


def test_unknown_case_is_rejected(setting):
    classifier, redrawer, x, y = setting
    with pytest.raises(ValueError, match="cases"):
        evaluate_cases(classifier, redrawer, x, y, {}, cases=["E"])
