from __future__ import annotations

import lightning as L
import pytest
import torch

from lit_robust.attacks import FGSM, LL
from lit_robust.data import EnsembleAdversarialExamples, SyntheticImages
from lit_robust.defenses import EnsembleTripletAdversarialTraining
from lit_robust.models import MLP, LeNet5

pytestmark = pytest.mark.filterwarnings(
    "ignore:You are trying to `self.log",
    "ignore:.*does not have many workers",
    "ignore:The number of training",
)
EPS = 0.1


def synthetic() -> SyntheticImages:
    return SyntheticImages(
        num_samples=40, num_classes=3, in_channels=1, input_size=8, batch_size=8, val_size=0
    )


def wrapper(setting: str = "known", sources: list | None = None, **kwargs) -> EnsembleAdversarialExamples:
    kwargs.setdefault("progress", False)
    return EnsembleAdversarialExamples(
        synthetic(),
        attacks={"fgsm": FGSM(EPS), "ll": LL(EPS)},
        sources=[MLP(1, 3, 8, [16])] if sources is None else sources,
        setting=setting,
        **kwargs,
    )


def model(backbone: torch.nn.Module | None = None) -> EnsembleTripletAdversarialTraining:
    return EnsembleTripletAdversarialTraining(backbone or LeNet5(1, 3, 8), num_classes=3)


def trainer(epochs: int, **kwargs) -> L.Trainer:
    kwargs.setdefault("reload_dataloaders_every_n_epochs", 1)
    return L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kwargs,
    )


class BatchShapes(L.Callback):
    """Records, per epoch, how many tensors the training batches hold."""

    def __init__(self) -> None:
        self.sizes: dict[int, set[int]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.sizes.setdefault(trainer.current_epoch, set()).add(len(batch))


def test_rounds_follow_pretraining_and_serve_pairs_of_clean_and_adversarial_images():
    data = wrapper(pretrain_epochs=1, epochs_per_round=2, examples_per_image=1)
    rounds = []
    craft = data.craft_round
    data.craft_round = lambda m, r: (rounds.append((m.trainer.current_epoch, r)), craft(m, r))
    shapes = BatchShapes()
    trainer(4, callbacks=[shapes]).fit(model(), datamodule=data)
    assert shapes.sizes == {0: {2}, 1: {3}, 2: {3}, 3: {3}}
    assert rounds == [(1, 0), (3, 1)]
    images = data.train_data[0].float() / 255
    distance = (data.examples[0] - images).abs().amax(dim=(1, 2, 3))
    assert distance.max() <= EPS + 1e-6 and distance.min() > 0
    assert data.examples.dtype == torch.float32
    steps = data.examples * 255
    assert (steps - steps.round()).abs().max() > 0.1, "the examples must not be rounded to 1/255 steps"


def test_known_setting_attacks_the_evaluated_model_with_its_current_weights():
    data = wrapper(examples_per_image=None)
    data.setup("fit")
    evaluated = model()
    data.craft_round(evaluated, 0)
    assert [member for _, member in data.pairs[:2]] == ["model", "0:MLP"]
    assert data.examples.shape[0] == 4 and data.pair_index[:, 0].tolist() == [0, 1, 2, 3]
    images, labels = data.train_data
    evaluated.eval()
    expected = FGSM(EPS)(evaluated, images.float() / 255, labels)
    torch.testing.assert_close(data.examples[data.pairs.index(("fgsm", "model"))], expected)


def test_one_example_per_image_draws_distinct_pairs_across_images_and_rounds():
    data = wrapper(examples_per_image=1)
    data.setup("fit")
    data.craft_round(model(), 0)
    first = data.pair_index.clone()
    assert first.shape == (1, 40) and set(first.flatten().tolist()) == {0, 1, 2, 3}
    data.craft_round(model(), 1)
    assert not torch.equal(first, data.pair_index)


def test_unknown_setting_leaves_the_evaluated_model_out():
    data = wrapper("unknown", examples_per_image=None)
    data.setup("fit")
    data.craft_round(model(), 0)
    assert [member for _, member in data.pairs] == ["0:MLP", "0:MLP"]


def test_unknown_setting_refuses_a_source_with_the_evaluated_structure():
    data = wrapper("unknown", sources=[MLP(1, 3, 8, [16]), LeNet5(1, 3, 8)])
    with pytest.raises(ValueError, match="LeNet5 like the model's backbone"):
        trainer(1).fit(model(), datamodule=data)


def test_the_trainer_must_reload_the_training_loader_every_epoch():
    with pytest.raises(ValueError, match="reload_dataloaders_every_n_epochs to 1"):
        trainer(1, reload_dataloaders_every_n_epochs=0).fit(model(), datamodule=wrapper())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"setting": "white-box"}, "setting must be"),
        ({"setting": "unknown", "sources": []}, "at least one source"),
        ({"examples_per_image": 5}, "at most the 4"),
        ({"source_checkpoints": ["a.ckpt", None]}, "one entry"),
        ({"epochs_per_round": 0}, "epochs_per_round"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        wrapper(**kwargs)


def test_attacks_must_not_be_empty():
    with pytest.raises(ValueError, match="at least one attack"):
        EnsembleAdversarialExamples(synthetic(), attacks={})


def test_the_ensemble_defense_refuses_a_plain_datamodule():
    with pytest.raises(ValueError, match="use EnsembleAdversarialExamples"):
        trainer(1).fit(model(), datamodule=synthetic())
