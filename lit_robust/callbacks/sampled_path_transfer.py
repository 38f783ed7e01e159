"""`SampledPathTransfer`: random layer sampling's paper protocol as a transfer evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch

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
        epsilons: as in :class:`RobustnessEvaluation`.
        path_seed: seed of the generator that draws the attacked path.
        **kwargs: the other arguments of :class:`RobustnessEvaluation` (``num_samples``, ``batch_size``,
            ``draws``: the defense's prediction is judged by the majority of this many draws, each the mean
            of N sampled models, ...).
    """

    def __init__(
        self,
        attacks: Mapping[str, AttackFn],
        epsilons: Epsilons = None,
        path_seed: int = 0,
        **kwargs: Any,
    ) -> None:
        # No source to check here: the sampled path is drawn in setup.
        RobustnessEvaluation.__init__(self, attacks=attacks, epsilons=epsilons, **kwargs)
        self.path_seed = path_seed
        self.sources = []

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not isinstance(pl_module, RandomLayerSampling):
            raise TypeError(
                f"SampledPathTransfer needs a RandomLayerSampling model, got {type(pl_module).__name__}."
            )
        path = pl_module.ensemble.sample_paths(1, torch.Generator().manual_seed(self.path_seed))[0]
        self.sources = [pl_module.sampled_model(path)]
