"""Attacks and wrappers are plain typed classes: jsonargparse builds them from YAML (as LightningCLI does)."""

from __future__ import annotations

import pytest
import torch
from jsonargparse import ArgumentParser
from torch import nn

from lit_robust.attacks import BPDA, EOT, PGD, Attack, HighConfidence

CONFIG = """
attack:
  class_path: lit_robust.attacks.EOT
  init_args:
    samples: 10
    attack:
      class_path: lit_robust.attacks.PGD
      init_args: {eps: 0.3, steps: 40, step_size: 0.01, norm: L2}
model:
  class_path: lit_robust.attacks.BPDA
  init_args:
    model: {class_path: torch.nn.Flatten}
    preprocess: {class_path: torch.nn.Hardtanh, init_args: {min_val: 0.25, max_val: 0.75}}
"""


def parser() -> ArgumentParser:
    parser = ArgumentParser(exit_on_error=False)
    parser.add_argument("--attack", type=Attack)
    parser.add_argument("--model", type=nn.Module | None, default=None)
    return parser


def test_nested_wrappers_build_from_yaml() -> None:
    built = parser().instantiate(parser().parse_string(CONFIG))
    assert isinstance(built.attack, EOT) and isinstance(built.attack.attack, PGD)
    assert (built.attack.samples, built.attack.eps, built.attack.norm) == (10, 0.3, "L2")
    assert built.attack.attack.step_size == 0.01
    assert isinstance(built.model, BPDA) and isinstance(built.model.preprocess, nn.Hardtanh)
    assert torch.equal(built.model(torch.ones(1, 2, 2)), torch.full((1, 4), 0.75))


def test_defaults_and_literals_are_checked_by_the_parser() -> None:
    built = parser().instantiate(
        parser().parse_string("attack: {class_path: lit_robust.attacks.HighConfidence}")
    )
    assert isinstance(built.attack, HighConfidence)
    assert (built.attack.steps, built.attack.max_step_norm, built.attack.target) == (500, 0.1, "closest")
    with pytest.raises(Exception, match="norm"):
        parser().parse_string("attack: {class_path: lit_robust.attacks.PGD, init_args: {eps: 0.3, norm: L3}}")
