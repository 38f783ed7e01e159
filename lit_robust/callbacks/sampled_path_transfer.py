"""`SampledPathTransfer`: random layer sampling's paper protocol as a transfer evaluation."""

from __future__ import annotations

from collections.abc import Mapping

import lightning as L
import torch

from lit_robust.attacks.base import Norm
from lit_robust.callbacks.robustness import RobustnessEvaluation
from lit_robust.callbacks.transfer import TransferEvaluation
from lit_robust.defenses.layer_sampling import RandomLayerSampling
from lit_robust.evaluation.plan import AttackFn, Epsilons


class SampledPathTransfer(TransferEvaluation):
    """The paper's protocol of random layer sampling (Lee et al. 2020): examples are crafted on one sampled
    model, its path drawn once from ``path_seed`` and fixed, and classified by the defense itself (the mean of
    N fresh draws). Logs ``{stage}/transfer_acc/{attack}/eps={eps}`` as :class:`TransferEvaluation` does.

    The protocol is not an adaptive attack: put a :class:`RobustnessEvaluation` with ``EOT`` attacks on the
    defense beside it for the white-box numbers (the adaptive protocol).

    Args:
        attacks: attacks by name, run against the sampled model.
        path_seed: seed of the generator that draws the attacked path.
        The other arguments are :class:`TransferEvaluation`'s.
    """

    def __init__(
        self,
        attacks: Mapping[str, AttackFn],
        epsilons: Epsilons = None,
        norm: Norm = "Linf",
        every_n_epochs: int = 1,
        num_samples: int = 512,
        batch_size: int = 256,
        path_seed: int = 0,
        seed: int | None = 0,
        log_images: bool = True,
        num_images: int = 8,
        log_figure: bool = True,
    ) -> None:
        RobustnessEvaluation.__init__(
            self, attacks, epsilons, norm, every_n_epochs, num_samples, batch_size, seed=seed,
            log_images=log_images, num_images=num_images, log_figure=log_figure,
        )  # fmt: skip
        self.path_seed = path_seed
        self.sources = []

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not isinstance(pl_module, RandomLayerSampling):
            raise TypeError(
                f"SampledPathTransfer needs a RandomLayerSampling model, got {type(pl_module).__name__}."
            )
        path = pl_module.ensemble.sample_paths(1, torch.Generator().manual_seed(self.path_seed))[0]
        self.sources = [pl_module.sampled_model(path)]
