"""`evaluate_robustness`: report contents, speed rules, worst case, rho, inputs."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from lit_robust.attacks import BIM, FGSM, PGD, Attack, DeepFool
from lit_robust.evaluation import Column, evaluate_robustness
from tests.evaluation.conftest import FlagAttack

EPSILONS = [0.02, 0.05, 0.1, 0.2]


def predictions(model, x):
    with torch.no_grad():
        return model(x).argmax(dim=1)


def test_report_on_a_trained_model(blobs_model, blobs):
    x, y = blobs
    attacks = {"fgsm": FGSM(0.1), "bim": BIM(0.1, steps=10)}
    report = evaluate_robustness(blobs_model, x, y, attacks, EPSILONS, batch_size=128)
    clean = (predictions(blobs_model, x) == y).double().mean().item()
    assert report.clean_accuracy == pytest.approx(clean) and clean > 0.9
    assert report.num_samples == len(y)
    for name in attacks:
        curve = [report.accuracy(name, eps) for eps in EPSILONS]
        assert curve == sorted(curve, reverse=True) and curve[-1] < curve[0] < clean
    for eps in EPSILONS:
        assert report.accuracy("worst", eps) <= min(report.accuracy(n, eps) for n in attacks)
    assert report.accuracy("bim", 0.2) < report.accuracy("fgsm", 0.2)
    metrics = report.to_dict()["metrics"]
    assert metrics["robust_acc/bim/eps=0.1"] == report.accuracy("bim", 0.1)
    assert set(metrics) == {"clean_acc"} | {
        f"robust_acc/{n}/eps={e:g}" for n in [*attacks, "worst"] for e in EPSILONS
    }
    text = str(report)
    assert "eps=0.05" in text and "bim" in text and f"{report.accuracy('worst', 0.2):.2%}" in text
    lines = report.figure().axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["fgsm", "bim", "worst"]
    assert list(lines[2].get_ydata()) == [clean] + [report.accuracy("worst", e) for e in EPSILONS]
    mask = report.white_box.robust["bim"][0.1]
    assert mask.dtype == torch.bool and mask.shape == y.shape


def test_speed_rules_do_not_change_the_numbers(blobs_model, blobs):
    """Against attacking every point at every epsilon independently: a point broken at a smaller epsilon
    stays broken (its example lies in the larger ball), so the fast result is the running AND of the naive
    one; misclassified and already broken points are never attacked."""
    x, y = blobs
    attack = BIM(0.1, steps=5)
    counted = Counted(attack)
    report = evaluate_robustness(blobs_model, x, y, {"bim": counted}, EPSILONS, batch_size=1000)
    clean = predictions(blobs_model, x) == y
    running = clean.clone()
    alive_counts = []
    for eps in EPSILONS:
        alive_counts.append(int(running.sum()))
        naive = clean & (predictions(blobs_model, attack.with_eps(eps)(blobs_model, x, y)) == y)
        running &= naive
        assert torch.equal(report.white_box.robust["bim"][eps], running)
    assert counted.calls == alive_counts and alive_counts[-1] < alive_counts[0] < len(y)


class Counted(Attack):
    """Wraps an attack and records how many points each call gets."""

    def __init__(self, attack: Attack, calls: list[int] | None = None) -> None:
        super().__init__(attack.eps)
        self.attack, self.calls = attack, [] if calls is None else calls

    def with_eps(self, eps: float) -> Counted:
        return Counted(self.attack.with_eps(eps), self.calls)

    def perturb(self, model, x, y, generator):
        self.calls.append(len(x))
        return self.attack(model, x, y)


def test_early_stopping_loses_no_strength(blobs_model, blobs):
    """The evaluation runs BIM with early_stop=True: the same as that attack at each epsilon (with the
    carry-over), and no point robust that plain BIM (final iterate only) breaks."""
    x, y = blobs
    report = evaluate_robustness(blobs_model, x, y, {"bim": BIM(0.1, steps=5)}, EPSILONS, batch_size=1000)
    clean = predictions(blobs_model, x) == y
    running = clean.clone()
    for eps in EPSILONS:
        robust = report.white_box.robust["bim"][eps]
        stopping = BIM(eps, steps=5, early_stop=True)(blobs_model, x, y)
        running &= predictions(blobs_model, stopping) == y
        assert torch.equal(robust, running)
        plain = clean & (predictions(blobs_model, BIM(eps, steps=5)(blobs_model, x, y)) == y)
        assert not (robust & ~plain).any()


def test_worst_case_counts_a_point_only_if_every_attack_failed(code):
    model, x, y = code
    a, b = FlagAttack(0.3, flag=1), FlagAttack(0.3, flag=2)
    report = evaluate_robustness(model, x, y, {"a": a, "b": b}, [0.1, 0.3], batch_size=64)
    clean = predictions(model, x) == y
    flag_a, flag_b = x[:, 0, 0, 1] > 0.5, x[:, 0, 0, 2] > 0.5
    results = report.white_box
    assert torch.equal(results.robust["a"][0.1], clean) and torch.equal(results.worst[0.1], clean)
    assert torch.equal(results.robust["a"][0.3], clean & ~flag_a)
    assert torch.equal(results.robust["b"][0.3], clean & ~flag_b)
    assert torch.equal(results.worst[0.3], clean & ~flag_a & ~flag_b)
    assert report.accuracy("worst", 0.3) == pytest.approx((clean & ~flag_a & ~flag_b).double().mean().item())
    # misclassified points are never attacked; at 0.3 only the points a left at 0.1 (all correct ones)
    assert sum(a.calls) == int(clean.sum()) * 2 and (~clean).any()


class ShiftL2(Attack):
    """A minimum-norm stand-in: moves pixel (0, 0) by 0.5 (an L2 perturbation of norm 0.5, enough to change
    the class) on points flagged by pixel (0, 1); leaves the others unchanged (fails on them)."""

    norm = "L2"
    minimum_norm = True

    def perturb(self, model, x, y, generator):
        flagged = x[:, 0, 0, 1] > 0.5
        x_adv = x.clone()
        x_adv[:, 0, 0, 0] += torch.where(flagged, torch.where(x[:, 0, 0, 0] > 0.5, -0.5, 0.5), 0.0).to(
            x.dtype
        )
        return x_adv


def test_rho_and_minimum_norm_accuracies(code):
    model, x, y = code
    report = evaluate_robustness(model, x, y, {"shift": ShiftL2()}, [0.4, 0.6], norm="L2")
    clean = predictions(model, x) == y
    fooled = clean & (x[:, 0, 0, 1] > 0.5)
    failed = clean & ~fooled
    norms = x.flatten(1).norm(dim=1)
    expected_rho = (0.5 / norms[fooled]).sum() / (fooled | ~clean).sum()
    assert report.summary[Column("rho", "shift")] == pytest.approx(expected_rho.item())
    per_point = report.white_box.rho["shift"]
    assert per_point[failed].isnan().all() and (per_point[~clean] == 0).all()
    assert torch.equal(
        report.white_box.distance["shift"][fooled], torch.full((int(fooled.sum()),), 0.5, dtype=x.dtype)
    )
    assert report.accuracy("shift", 0.4) == pytest.approx(clean.double().mean().item())  # 0.5 > 0.4
    assert report.accuracy("shift", 0.6) == pytest.approx(failed.double().mean().item())
    assert report.accuracy("shift", math.inf) == pytest.approx(failed.double().mean().item())
    assert report.accuracy("worst", 0.6) == report.accuracy("shift", 0.6)


def test_deepfool_and_l2_pgd_share_the_l2_grid(blobs_model, blobs):
    x, y = blobs
    attacks = {"pgd": PGD(1.0, steps=10, norm="L2"), "deepfool": DeepFool(steps=30)}
    report = evaluate_robustness(blobs_model, x, y, attacks, [0.25, 0.5, 1.0], norm="L2")
    rho = report.summary[Column("rho", "deepfool")]
    assert 0 < rho < 1
    assert report.accuracy("deepfool", math.inf) < 0.05
    for eps in (0.25, 0.5, 1.0):
        assert report.accuracy("worst", eps) <= min(report.accuracy(n, eps) for n in attacks)


def test_a_dataloader_of_uint8_batches_and_inference_mode(blobs_model, blobs):
    x, y = blobs
    model = copy.deepcopy(blobs_model).float()  # uint8 batches become float32, as in the datamodules
    x8 = (x * 255).round().to(torch.uint8)
    loader = DataLoader(TensorDataset(x8, y), batch_size=100)
    with torch.inference_mode():
        from_loader = evaluate_robustness(model, loader, attacks={"fgsm": FGSM(0.1)}, epsilons=[0.1])
    from_tensor = evaluate_robustness(model, x8.float() / 255, y, {"fgsm": FGSM(0.1)}, [0.1], batch_size=100)
    assert from_loader.num_samples == len(y)
    assert from_loader.to_dict()["metrics"] == from_tensor.to_dict()["metrics"]


def test_random_attacks_are_reproducible_and_eval_mode_is_restored(blobs_model, blobs):
    x, y = blobs
    blobs_model.train()
    try:
        runs = [
            evaluate_robustness(blobs_model, x, y, {"pgd": PGD(0.1, steps=3)}, [0.1], seed=5)
            for _ in range(2)
        ]
        assert blobs_model.training
    finally:
        blobs_model.eval()
    assert torch.equal(runs[0].white_box.robust["pgd"][0.1], runs[1].white_box.robust["pgd"][0.1])


def test_transfer_from_the_model_itself_matches_white_box(blobs_model, blobs):
    """Same model, same seeds: FGSM gives the same numbers; white-box PGD stops each point at its first
    fooling iterate and transfer PGD runs every step, so white-box is at least as strong."""
    x, y = blobs
    attacks = {"fgsm": FGSM(0.1), "pgd": PGD(0.1, steps=5)}
    report = evaluate_robustness(
        blobs_model, x, y, attacks, [0.05, 0.1], source=blobs_model, sanity_checks=True
    )
    for eps in (0.05, 0.1):
        assert report.accuracy("fgsm", eps, transfer=True) == report.accuracy("fgsm", eps)
        assert report.accuracy("pgd", eps, transfer=True) >= report.accuracy("pgd", eps)
    assert not report.flags
    assert "pgd (transfer)" in str(report)


def test_a_torchattacks_attack_plugs_in_through_a_two_line_adapter(blobs_model, blobs):
    torchattacks = pytest.importorskip("torchattacks")
    x, y = blobs
    x, model = x.float(), copy.deepcopy(blobs_model).float()
    ta_pgd = torchattacks.PGD(model, eps=0.1, alpha=0.02, steps=10, random_start=False)
    attack = lambda model, x, y: ta_pgd(x, y)  # noqa: E731  (the adapter)
    ours = PGD(0.1, steps=10, step_size=0.02, random_start=False)
    report = evaluate_robustness(model, x, y, {"ta": attack, "ours": ours}, [0.1])
    assert report.accuracy("ta") < report.clean_accuracy
    assert report.accuracy("ta") == pytest.approx(report.accuracy("ours", 0.1), abs=0.01)
