"""`VariablePerturbations`: fresh random noise on the inputs, at training, at test time or both.

One implementation of two baselines: the variable perturbations of the constant-perturbation paper
(Chernyak et al., Table 7: noise drawn anew for every batch, B/D perturbed images only, C/E clean and
perturbed images together) and the random noise injection of the Pixel Redrawn paper (Table 5: U(-1, 1)
noise clipped to [0, 1] at training, at testing, or both: ``eps=1.0`` with ``phase``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lit_robust.data.noise import Distribution, add_noise, check_noise
from lit_robust.defenses.phase import Phase, phase_flags
from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput


class AddNoise(nn.Module):
    """``clip(x + delta, 0, 1)`` with a fresh ``delta`` at every call: the test-time transform of a
    :class:`VariablePerturbations` defended model.

    Args:
        eps: bound of the uniform noise, or standard deviation of the normal noise, in [0, 1] pixels.
        distribution: ``"uniform"`` or ``"normal"``.
    """

    def __init__(self, eps: float, distribution: Distribution = "uniform") -> None:
        check_noise(eps, distribution)
        super().__init__()
        self.eps = eps
        self.distribution: Distribution = distribution

    def forward(self, x: Tensor) -> Tensor:
        return add_noise(x, self.eps, self.distribution)

    def extra_repr(self) -> str:
        return f"eps={self.eps}, distribution={self.distribution!r}"


class VariablePerturbations(RobustClassifier):
    """Trains (and optionally predicts) on ``clip(x + delta, 0, 1)`` with ``delta`` drawn for every batch.

    ``delta`` is U(-eps, eps) or N(0, eps^2) per pixel, from torch's global RNG (seeded by
    ``seed_everything``), so, unlike :class:`~lit_robust.data.ConstantPerturbations`, the network never
    sees the same perturbation twice. The paper redraws "at each epoch"; drawing per batch is the same
    thing, since every image appears once per epoch.

    With noise at test time (``phase`` ``"test"`` or ``"both"``), the defended model's transform
    (``model.transform``, an :class:`AddNoise`) draws noise, so :meth:`forward` is random: predictions,
    validation and every attack see a fresh draw at each call. Evaluate it with
    :class:`~lit_robust.attacks.EOT` around the attack (the gradient of the expected loss); a plain attack
    against one draw at a time reports robustness that comes from gradient noise, not from the model.

    ``train/acc`` is the accuracy on the batch the loss is computed on: the clean images with
    ``include_clean``, otherwise the perturbed ones (the clean ones are not run through the network).

    Args:
        backbone: the network mapping normalised images to logits.
        eps: bound of the uniform noise, or standard deviation of the normal noise, in [0, 1] pixels.
        distribution: ``"uniform"`` or ``"normal"``.
        include_clean: train on the clean batch and its perturbed copy together (settings C and E of the
            paper's Table 7) instead of the perturbed batch alone (B and D).
        phase: add noise to the training batches (``"train"``), to every input of :meth:`forward`
            (``"test"``: predictions, validation, attacks; training is then standard) or both.
        **kwargs: the arguments of :class:`~lit_robust.defenses.RobustClassifier`.
    """

    def __init__(
        self,
        backbone: nn.Module,
        eps: float = 16 / 255,
        distribution: Distribution = "uniform",
        include_clean: bool = False,
        phase: Phase = "train",
        **kwargs: Any,
    ) -> None:
        check_noise(eps, distribution)
        train_noise, test_noise = phase_flags(phase)
        super().__init__(backbone, **kwargs)
        self.eps = eps
        self.distribution: Distribution = distribution
        self.include_clean = include_clean
        self.train_noise, self.test_noise = train_noise, test_noise
        if test_noise:
            self.model.transform = AddNoise(eps, distribution)

    @property
    def randomized(self) -> bool:
        """Whether the test-time prediction is random (noise at test time): evaluation then judges it by a
        majority of draws (:mod:`lit_robust.evaluation.engine`)."""
        return self.test_noise

    def perturb(self, x: Tensor) -> Tensor:
        """``clip(x + delta, 0, 1)`` with a fresh draw of ``delta``."""
        return add_noise(x, self.eps, self.distribution)

    def training_loss(self, x: Tensor, y: Tensor) -> TrainingOutput:
        """Cross-entropy on the perturbed batch (with the clean batch in front when ``include_clean``)."""
        if not self.train_noise:
            inputs, targets = x, y
        elif self.include_clean:
            inputs, targets = torch.cat([x, self.perturb(x)]), torch.cat([y, y])
        else:
            inputs, targets = self.perturb(x), y
        logits = self.model.network(inputs)  # without the transform: test-time noise is not added twice
        return TrainingOutput(self.classification_loss(logits, targets), logits[: len(y)])
