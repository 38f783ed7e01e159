"""configs/pixel_redrawn/: the paper's schedule, equal steps across Table 1's phases, EOT where random."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CONFIGS = Path(__file__).parents[1] / "configs" / "pixel_redrawn"
TABLE_1 = ("fashion_mnist_non_pr", "fashion_mnist_pr_train", "fashion_mnist_pr_test", "fashion_mnist_pr_both")
PAPER_SCALE = ("mnist", "cifar10", "cifar10_grayscale", "fashion_mnist_multiple_pr")  # Tables 2-4


def load(name: str) -> dict:
    return yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())


def attacks(config: dict) -> dict:
    (evaluation,) = [c for c in config["trainer"]["callbacks"] if c["class_path"] == "RobustnessEvaluation"]
    return evaluation["init_args"]["attacks"]


def test_table_1_phases_train_on_the_same_data_for_the_same_epochs():
    configs = [load(name) for name in TABLE_1]
    assert all(c["data"] == configs[0]["data"] for c in configs)  # no precomputed, longer epochs
    assert configs[0]["data"]["source"]["class_path"] == "FashionMNIST"
    assert {c["trainer"]["max_epochs"] for c in configs} == {50}
    phases = [c["model"]["init_args"].get("phase") for c in configs]
    assert phases == [None, "train", "test", "both"]


@pytest.mark.parametrize("name", PAPER_SCALE)
def test_paper_scale_configs_run_the_papers_1000_epochs(name):
    assert load(name)["trainer"]["max_epochs"] == 1000


@pytest.mark.parametrize("name", ["cifar10", "cifar10_grayscale"])
def test_cifar_configs_train_without_crop_and_flip_as_the_original_code(name):
    assert load(name)["data"]["augment"] is False


@pytest.mark.parametrize("config", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_attack_on_a_model_random_at_test_time_runs_under_eot(config):
    settings = yaml.safe_load(config.read_text())
    random_at_test = settings["model"]["init_args"].get("phase") in ("test", "both")
    under_eot = {name: a["class_path"] == "EOT" for name, a in attacks(settings).items()}
    assert all(under_eot.values()) if random_at_test else not any(under_eot.values())
