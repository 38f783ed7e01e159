"""`AdversaryCritic` (Matyasko and Chau 2018): adversarial examples should look like natural images of their
adversarial class to a critic network trained jointly with the classifier."""

from __future__ import annotations

from typing import Any, Literal, get_args

import torch
import torch.distributed as dist
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from lit_robust.attacks.base import check_choice
from lit_robust.attacks.targets import select_targets
from lit_robust.attacks.unrolled_high_confidence import UnrolledHighConfidence
from lit_robust.defenses.adversarial_defense import AdversarialDefense
from lit_robust.defenses.attack_mode import AttackMode
from lit_robust.defenses.global_mean import global_mean
from lit_robust.defenses.manual_optimization import ManualOptimizationDefense, OptimizedPart
from lit_robust.defenses.robust_classifier import TrainingOutput
from lit_robust.models.critic import Critic

TrainingTarget = Literal["closest", "random"]
CycleLoss = Literal["norm", "squared"]
FakeSamples = Literal["changed", "all"]


class AdversaryCritic(AdversarialDefense, ManualOptimizationDefense):
    """The classifier ``f`` and a per-class critic ``D`` play a GAN game whose generator is the differentiable
    high-confidence attack on ``f`` (:class:`~lit_robust.attacks.UnrolledHighConfidence`).

    Each training step (manual optimisation, after ``pretrain_epochs`` epochs of plain cross-entropy):

    1. targets ``t`` from the clean prediction: the class with the closest linearised decision boundary (the
       DeepFool rule, ``target="closest"``, the paper's choice) or uniform over the other classes
       (``"random"``, the paper's "masked uniform"; the authors' code masks the prediction, as here);
       confidence ``C`` = the running mean confidence of class ``t`` (below);
    2. ``x_hat = A_f(x, t, C)``, kept in the graph; ``y_adv = argmax f(x_hat)``; a point is *changed* when
       ``y_adv`` differs from its clean prediction;
    3. ``critic_steps`` critic steps on ``-log sigmoid(D_y(x)) - log(1 - sigmoid(D_yadv(x_hat)))`` plus
       ``lambda_grad * [(||grad_x D_y(x)|| - 1)^2 + (||grad D_yadv(x_hat)|| - 1)^2]``, the penalties at
       the real and adversarial points separately (no interpolation). The real terms average over all
       points; the fake (adversarial) term and its penalty over the changed points (``fake_samples=
       "changed"``, the paper's Eq. 4, whose fake term only takes points of another class than the
       critic's output ``y_adv``; Eq. 4 writes the condition with the label, which is the prediction on
       correctly classified points) or over all points (``"all"``, the authors' code);
    4. one classifier step on ``CE(f(x), y) + lambda_gan * mean(-log sigmoid(D_yadv(x_hat)))
       + lambda_rec * mean ||x - x_rec||``, where ``x_rec = A_f(stop_grad(x_hat), argmax f(x), conf f(x))``
       is the cycle (reconstruction) attack back to the prediction with the classifier's confidence on
       ``x`` (not detached, as in the code). Both regularisers average over the changed points (paper and
       code agree; zero when there are none).

    Under DDP, every mean over changed points is a mean over the changed points of all processes (sums and
    counts all-reduced, see :func:`~lit_robust.defenses.global_mean.global_mean`), not a mean of
    per-process means. The training attack, its targets, the prediction ``y_adv``, the clean prediction
    and confidence they start from, and the cycle attack all use the classifier in ``attack_mode``:
    ``"eval"`` (default: no dropout, batch-norm running statistics; the paper's MLP and LeNet-5 have
    neither, so there the modes agree, and the paper does not say) or ``"train"`` (the clean logits of the
    training pass itself; batch statistics, whose running values crafting leaves untouched). The
    cross-entropy uses the training pass, and the critic is always in training mode (its noise on).

    ``toggle_optimizer`` keeps each step to its own parameters
    (:class:`~lit_robust.defenses.manual_optimization.ManualOptimizationDefense`, which also steps both
    schedulers, every epoch after the pretraining, ``lr_scheduler_interval="epoch"``, or every step). The
    confidence of class ``k`` is an exponential moving average (decay ``confidence_decay``, bias-corrected,
    no gradient) of the mean maximum softmax probability of the clean training points predicted as ``k``
    (in ``attack_mode``), updated every step from the start of training (so the pretraining initialises
    it); its batch statistics are summed over DDP processes, so every rank holds the same values. DDP needs
    ``strategy: ddp_find_unused_parameters_true`` (the pretraining steps and the critic steps leave one
    network unused).

    Where the authors' code and the paper differ, the paper is the default and the code an option:
    ``fake_samples`` (above), ``cycle_loss="norm"`` (the paper's Eq. 6, the L2 distance; ``"squared"``: the
    code's squared distance) and ``detach_iterates=False`` (the paper's formula differentiates through the
    whole unrolled attack; ``True``: the code stops the gradient at each iterate, see
    :class:`~lit_robust.attacks.UnrolledHighConfidence`). The code's tiny weight decay (5e-6) in the
    pretraining loss is left out. Paper settings: Adam with ``betas=(0.5, 0.999)``, lr 5e-4 (classifier) and
    1e-3 (critic), both halved every 40 epochs (``StepLR``), 1 pretraining and 100 training epochs, batch
    100, ``lambda_gan`` 0.5 (MLP) or 0.1 (LeNet-5).

    Logs ``train/loss`` (the classifier's), ``train/ce``, ``train/gan``, ``train/rec``, ``train/changed``
    (share of points whose prediction the attack changed), ``train/adv_l2`` (mean ``||x_hat - x||_2`` over
    them), ``train/critic_loss``, ``train/critic_penalty``, ``train/critic_acc_real`` and
    ``train/critic_acc_adv`` (over the points of the fake term).

    Args:
        backbone: the classifier network mapping normalised images to logits.
        critic: the critic, ``critic(x, y) -> D_y(x)`` on [0, 1] images with ``num_classes`` outputs.
        lambda_gan: weight of the classifier's adversarial (critic) loss.
        lambda_rec: weight of the cycle-consistency loss.
        lambda_grad: weight of the critic's gradient-norm penalty.
        attack_steps: unrolled steps of the training attack.
        attack_overshoot: overshoot of the training attack.
        detach_iterates: stop the gradient at each attack iterate (the code) or not (the paper, default).
        target: the training attack's target rule, ``"closest"`` or ``"random"``.
        confidence_decay: decay of the running class confidence.
        cycle_loss: ``"norm"`` (paper, default) or ``"squared"`` (code) L2 distance of the cycle loss.
        fake_samples: the critic's fake term and its penalty over the ``"changed"`` points (paper, default)
            or ``"all"`` points (code).
        attack_mode: the classifier's mode for the attacks, their targets and ``y_adv``.
        pretrain_epochs: epochs of plain cross-entropy before the critic game starts.
        critic_steps: critic steps per classifier step.
        critic_optimizer: optimiser factory of the critic's parameters.
        critic_lr_scheduler: optional scheduler factory of the critic's optimiser.
        **kwargs: the :class:`~lit_robust.defenses.RobustClassifier` arguments (``optimizer`` and
            ``lr_scheduler`` are the classifier's).
    """

    def __init__(
        self,
        backbone: nn.Module,
        critic: nn.Module,
        lambda_gan: float = 0.5,
        lambda_rec: float = 0.01,
        lambda_grad: float = 10.0,
        attack_steps: int = 5,
        attack_overshoot: float = 0.05,
        detach_iterates: bool = False,
        target: TrainingTarget = "closest",
        confidence_decay: float = 0.5,
        cycle_loss: CycleLoss = "norm",
        fake_samples: FakeSamples = "changed",
        attack_mode: AttackMode = "eval",
        pretrain_epochs: int = 1,
        critic_steps: int = 1,
        critic_optimizer: OptimizerCallable = torch.optim.Adam,
        critic_lr_scheduler: LRSchedulerCallable | None = None,
        **kwargs: Any,
    ) -> None:
        if min(lambda_gan, lambda_rec, lambda_grad) < 0:
            raise ValueError(
                f"lambda_gan, lambda_rec and lambda_grad must be >= 0, got {lambda_gan}, {lambda_rec},"
                f" {lambda_grad}."
            )
        if not 0 <= confidence_decay < 1:
            raise ValueError(f"confidence_decay must be in [0, 1), got {confidence_decay}.")
        if pretrain_epochs < 0 or critic_steps < 1:
            raise ValueError(
                f"pretrain_epochs must be >= 0 and critic_steps >= 1, got {pretrain_epochs}, {critic_steps}."
            )
        check_choice("target", target, get_args(TrainingTarget))
        check_choice("cycle_loss", cycle_loss, get_args(CycleLoss))
        check_choice("fake_samples", fake_samples, get_args(FakeSamples))
        super().__init__(backbone, attack_mode=attack_mode, **kwargs)
        if isinstance(critic, Critic) and critic.num_classes != self.num_classes:
            raise ValueError(
                f"critic has {critic.num_classes} outputs but the classifier {self.num_classes} classes;"
                " set the critic's num_classes to the dataset's."
            )
        self.critic = critic
        self.attack = UnrolledHighConfidence(attack_steps, attack_overshoot, detach_iterates)
        self.lambda_gan = lambda_gan
        self.lambda_rec = lambda_rec
        self.lambda_grad = lambda_grad
        self.target: TrainingTarget = target
        self.confidence_decay = confidence_decay
        self.cycle_loss: CycleLoss = cycle_loss
        self.fake_samples: FakeSamples = fake_samples
        self.pretrain_epochs = pretrain_epochs
        self.critic_steps = critic_steps
        self.critic_optimizer_factory = critic_optimizer
        self.critic_lr_scheduler_factory = critic_lr_scheduler
        self.register_buffer("confidence_average", torch.zeros(self.num_classes))
        self.register_buffer("confidence_updates", torch.zeros((), dtype=torch.long))

    # ------------------------------------------------------------------------------------ confidence
    @property
    def class_confidence(self) -> Tensor:
        """The bias-corrected running mean confidence of each class (ones before the first update)."""
        if self.confidence_updates == 0:
            return torch.ones_like(self.confidence_average)
        return self.confidence_average / (1 - self.confidence_decay**self.confidence_updates)

    @torch.no_grad()
    def update_confidence(self, logits: Tensor) -> None:
        """Moves the running class confidences towards the batch's mean confidence per predicted class
        (summed over DDP processes); classes predicted nowhere keep their current value."""
        probs = logits.detach().softmax(dim=1)
        confidence, prediction = probs.max(dim=1)
        stats = torch.zeros(2, self.num_classes, device=probs.device, dtype=probs.dtype)
        stats[0].index_add_(0, prediction, confidence)
        stats[1].index_add_(0, prediction, torch.ones_like(confidence))
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(stats)
        batch_mean = torch.where(stats[1] > 0, stats[0] / stats[1].clamp_min(1), self.class_confidence)
        self.confidence_average.mul_(self.confidence_decay).add_((1 - self.confidence_decay) * batch_mean)
        self.confidence_updates += 1

    # ---------------------------------------------------------------------------------------- losses
    def attack_targets(self, x: Tensor, logits: Tensor) -> Tensor:
        """The training attack's target classes for ``x`` with clean ``logits`` (call in ``attack_mode``)."""
        prediction = logits.detach().argmax(dim=1)
        return select_targets(lambda z: self(z), x, prediction, self.target)

    def critic_loss(
        self, x: Tensor, y: Tensor, x_adv: Tensor, y_adv: Tensor, changed: Tensor
    ) -> dict[str, Tensor]:
        """The critic's loss on real ``(x, y)`` and adversarial ``(x_adv, y_adv)`` pairs, with its parts;
        ``changed`` marks the points whose prediction the attack changed."""
        x_real = x.detach().requires_grad_(True)
        x_fake = x_adv.detach().requires_grad_(True)
        d_real, d_fake = self.critic(x_real, y), self.critic(x_fake, y_adv)
        grad_real, grad_fake = torch.autograd.grad(
            (d_real.sum(), d_fake.sum()), (x_real, x_fake), create_graph=True
        )
        fake = changed if self.fake_samples == "changed" else torch.ones_like(changed)
        penalty_real = ((grad_real.flatten(1).norm(dim=1) - 1) ** 2).mean()
        penalty_fake = global_mean((grad_fake[fake].flatten(1).norm(dim=1) - 1) ** 2)
        gan = F.softplus(-d_real).mean() + global_mean(F.softplus(d_fake[fake]))
        penalty = penalty_real + penalty_fake
        return {
            "critic_loss": gan + self.lambda_grad * penalty,
            "critic_penalty": penalty,
            "critic_acc_real": (d_real > 0).float().mean(),
            "critic_acc_adv": global_mean((d_fake[fake] < 0).float()),
        }

    def classifier_loss(
        self, x: Tensor, y: Tensor, logits: Tensor, reference: Tensor, x_adv: Tensor, y_adv: Tensor
    ) -> dict[str, Tensor]:
        """The classifier's loss, with its parts: the cross-entropy of the training pass's ``logits``, the
        regularisers from the clean ``reference`` logits in ``attack_mode``; ``x_adv`` must still be
        connected to the graph."""
        ce = self.classification_loss(logits, y)
        confidence, prediction = reference.softmax(dim=1).max(dim=1)
        changed = y_adv != prediction
        x_c, x_adv_c = x[changed], x_adv[changed]
        gan = global_mean(F.softplus(-self.critic(x_adv_c, y_adv[changed])))
        distance = x.new_zeros(0)
        if changed.any():
            x_rec = self.craft(self.attack, x_adv_c.detach(), prediction[changed], confidence[changed])
            distance = (x_c - x_rec).flatten(1).square().sum(dim=1)
        rec = global_mean(distance if self.cycle_loss == "squared" else distance.clamp_min(1e-12).sqrt())
        return {
            "loss": ce + self.lambda_gan * gan + self.lambda_rec * rec,
            "ce": ce,
            "gan": gan,
            "rec": rec,
            "changed": global_mean(changed.float()),
            "adv_l2": global_mean((x_adv_c - x_c).detach().flatten(1).norm(dim=1)),
        }

    # ------------------------------------------------------------------------------------ the steps
    def manual_training_step(self, x: Tensor, y: Tensor) -> TrainingOutput:
        classifier_optimizer, critic_optimizer = self.optimizers()
        logits = self(x)
        pretraining = self.current_epoch < self.pretrain_epochs
        with self.in_attack_mode():
            reference = logits if self.attack_mode == "train" else self._reference_logits(x, pretraining)
            self.update_confidence(reference)
            if not pretraining:
                target = self.attack_targets(x, reference)
                x_adv = self.attack(self, x, target, self.class_confidence[target])
                with torch.no_grad():
                    y_adv = self(x_adv).argmax(dim=1)
        if pretraining:
            parts = self.optimize(classifier_optimizer, lambda: {"loss": self.classification_loss(logits, y)})
        else:
            changed = y_adv != reference.detach().argmax(dim=1)
            for _ in range(self.critic_steps):
                critic_parts = self.optimize(
                    critic_optimizer, lambda: self.critic_loss(x, y, x_adv, y_adv, changed), "critic_loss"
                )
            self.log_terms(critic_parts, len(y))
            parts = self.optimize(
                classifier_optimizer, lambda: self.classifier_loss(x, y, logits, reference, x_adv, y_adv)
            )
        loss = parts.pop("loss")
        self.log_terms(parts, len(y))
        return TrainingOutput(loss, logits)

    def _reference_logits(self, x: Tensor, pretraining: bool) -> Tensor:
        """The clean logits in ``attack_mode`` (call inside it); with gradients once the game has started,
        for the cycle attack's confidence."""
        with torch.set_grad_enabled(not pretraining):
            return self(x)

    def schedulers_running(self) -> bool:
        """The schedulers start with the critic game (the pretraining does not count)."""
        return self.current_epoch >= self.pretrain_epochs

    def optimized_parts(self) -> list[OptimizedPart]:
        critic_parameters = {id(p) for p in self.critic.parameters()}
        classifier_parameters = [p for p in self.parameters() if id(p) not in critic_parameters]
        return [
            OptimizedPart(classifier_parameters, self.optimizer_factory, self.lr_scheduler_factory),
            OptimizedPart(
                self.critic.parameters(), self.critic_optimizer_factory, self.critic_lr_scheduler_factory
            ),
        ]
