"""`RandomLayerSampling`: a layer-sampled ensemble trained through the mean of K sampled models."""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_robust.defenses.robust_classifier import RobustClassifier, TrainingOutput
from lit_robust.models.layer_sampling import LayerSampledEnsemble, SampledModel
from lit_robust.models.sampling_units import Granularity

GroupLoss = Literal["mse", "cross_entropy"]


class RandomLayerSampling(RobustClassifier):
    """Random layer sampling with group optimisation (Lee et al., BMVC 2020).

    ``backbone`` becomes sub-model 0 of a :class:`~lit_robust.models.LayerSampledEnsemble` of ``num_models``
    sub-models (``self.backbone``, the backbone of :attr:`model`, is the ensemble; :attr:`model` itself runs
    one sampled model per call). A sampled model takes each convolution or linear layer,
    with its normalisation, from one sub-model (the paper's per-layer sampling: 2^54 sampled models for
    ResNet-50 with M=2); ``granularity="stage"`` samples whole stages instead (6 for ResNet-50 and
    VGG-16: 64 sampled models), an option the paper does not use. Each training step draws K sampled
    models and minimises the loss of their mean prediction ``F = (1/K) sum_k f_k`` (f_k: softmax of sampled
    model k). The paper's loss is the squared error of F to the one-hot label, summed over classes (Eq. 7:
    ``MSE(F) = mean_k MSE(f_k) - mean_k (f_k - F)^2``, so it rewards diverse members);
    ``loss="cross_entropy"`` takes the cross-entropy of F instead. Both use ``label_smoothing`` on the
    target. Logged: ``train/member_mse`` (mean_k MSE(f_k)) and ``train/diversity`` (mean_k (f_k - F)^2,
    Eq. 6 and 8).

    :meth:`forward` is the defended model (:attr:`defended_model` is the module itself): the mean softmax of
    N fresh sampled models, each through the normalisation of :attr:`model`, returned as its log, so
    cross-entropy and attacks apply to it as to logits. The paper's evaluation attacks one sampled model
    with its path fixed (:meth:`sampled_model`) and classifies with N other draws; an adaptive attacker
    differentiates the expectation over draws instead (``lit_robust.attacks.EOT`` around this module).

    Paper settings: M=2, K=3, N=10; SGD lr 0.01 divided by 10 every 50 epochs, momentum 0.9, weight decay
    5e-4 (set in the configs). The paper scales pixels to [-1, 1] and states its attack budgets on that
    scale (section 4.1), so its eps is twice lit_robust's, which is always in [0, 1] pixel space: the
    configs use half the paper's eps (the paper's CIFAR-10 PGD eps 0.02 is 0.01 here). The configs
    normalise with the datamodule's mean/std (linked by the CLI), not the paper's mean/std 0.5; the
    normalisation changes the input scaling the network learns on, not the budget. The paper gives no
    code; sampling randomness comes from the global RNG (``seed_everything``). Under DDP use
    ``strategy: ddp_find_unused_parameters_true``: a step's K paths may leave a sub-model's layer unused.

    Args:
        backbone: the sub-model structure (split by :func:`~lit_robust.models.sampling_units`).
        num_models: M, sub-models of the ensemble.
        train_samples: K, sampled models per training step.
        test_samples: N, sampled models averaged by :meth:`forward`.
        probabilities: mu, the probability of each sub-model at every stage (uniform when ``None``).
        per_sample: draw a path per image instead of one per batch.
        granularity: ``"layer"`` (the paper) or ``"stage"``, the units that are sampled.
        loss: ``"mse"`` (the paper's Eq. 7) or ``"cross_entropy"`` of the mean prediction.
        **kwargs: :class:`RobustClassifier`'s arguments (``num_classes``, ``mean``, ``std``, ``optimizer``).
    """

    def __init__(
        self,
        backbone: nn.Module,
        num_models: int = 2,
        train_samples: int = 3,
        test_samples: int = 10,
        probabilities: list[float] | None = None,
        per_sample: bool = False,
        granularity: Granularity = "layer",
        loss: GroupLoss = "mse",
        **kwargs: Any,
    ) -> None:
        if train_samples < 1 or test_samples < 1:
            raise ValueError(
                f"train_samples and test_samples must be >= 1, got {train_samples}, {test_samples}."
            )
        if loss not in ("mse", "cross_entropy"):
            raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {loss!r}.")
        ensemble = LayerSampledEnsemble(backbone, num_models, probabilities, per_sample, granularity)
        super().__init__(ensemble, **kwargs)
        self.train_samples = train_samples
        self.test_samples = test_samples
        self.group_loss = loss

    randomized = True
    """Every prediction draws new paths: evaluation judges it by a majority of draws
    (:mod:`lit_robust.evaluation.engine`)."""

    @property
    def ensemble(self) -> LayerSampledEnsemble:
        return self.backbone  # type: ignore[return-value]

    @property
    def defended_model(self) -> nn.Module:
        """The module itself: its :meth:`forward`, the mean of N sampled models, is the defended model."""
        return self

    def sample_probabilities(self, x: Tensor, samples: int) -> Tensor:
        """Softmax outputs of ``samples`` newly drawn sampled models, shape ``(samples, batch, classes)``."""
        z = self.normalize(x)
        return torch.stack([self.ensemble(z).softmax(dim=-1) for _ in range(samples)])

    def forward(self, x: Tensor) -> Tensor:
        """Log of the mean softmax of N sampled models (the paper's test-time prediction)."""
        probabilities = self.sample_probabilities(x, self.test_samples).mean(dim=0)
        return probabilities.clamp_min(torch.finfo(probabilities.dtype).tiny).log()

    def sampled_model(self, path: Tensor | None = None) -> nn.Module:
        """One sampled model, its path fixed (drawn when ``None``), on [0, 1] images: the paper's target."""
        path = self.ensemble.sample_paths(1)[0] if path is None else path
        return nn.Sequential(self.normalize, SampledModel(self.ensemble, path))

    def training_loss(self, x: Tensor, y: Tensor) -> TrainingOutput:
        members = self.sample_probabilities(x, self.train_samples)
        mean = members.mean(dim=0)
        smoothing = self.hparams.get("label_smoothing", 0.0)
        target = (
            F.one_hot(y, self.num_classes).to(mean.dtype) * (1 - smoothing) + smoothing / self.num_classes
        )
        log_mean = mean.clamp_min(torch.finfo(mean.dtype).tiny).log()
        if self.group_loss == "mse":
            loss = (mean - target).square().sum(dim=-1).mean()
        else:
            loss = -(target * log_mean).sum(dim=-1).mean()
        self.log("train/member_mse", (members - target).square().sum(dim=-1).mean(), batch_size=len(y))
        self.log("train/diversity", (members - mean).square().sum(dim=-1).mean(), batch_size=len(y))
        return TrainingOutput(loss, log_mean)
