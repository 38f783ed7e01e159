"""load_weights: state dicts and Lightning checkpoints, prefixes, adapted stems and the report."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lit_robust.models import load_weights
from lit_robust.models.pretrained import adapt_input_channels


def tiny(in_channels: int = 3, num_classes: int = 4) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 4 * 4, num_classes)
    )


def test_a_state_dict_loads_completely(tmp_path):
    source, target = tiny(), tiny()
    torch.save(source.state_dict(), tmp_path / "weights.pt")
    report = load_weights(target, tmp_path / "weights.pt", strict=True)
    assert report.complete and len(report.loaded) == len(source.state_dict())
    torch.testing.assert_close(target.state_dict(), source.state_dict())


def test_a_lightning_checkpoint_loses_its_prefix_and_the_other_modules(tmp_path):
    source, target = tiny(), tiny()
    state = {f"backbone.model.{k}": v for k, v in source.state_dict().items()}
    checkpoint = {"state_dict": {**state, "normalize.mean": torch.zeros(3)}, "epoch": 1}
    torch.save(checkpoint, tmp_path / "last.ckpt")
    report = load_weights(target, tmp_path / "last.ckpt", strict=True)
    assert report.complete
    torch.testing.assert_close(target.state_dict(), source.state_dict())


def test_a_file_of_a_wrapped_module_loads_into_the_bare_one_and_back(tmp_path):
    source = tiny()
    torch.save(source.state_dict(), tmp_path / "bare.pt")
    wrapped = nn.Sequential(tiny())
    load_weights(wrapped, tmp_path / "bare.pt", strict=True)
    torch.testing.assert_close(wrapped[0].state_dict(), source.state_dict())


def test_an_rgb_stem_is_adapted_and_a_new_head_is_reported(tmp_path):
    source = tiny(3, 1000)
    torch.save(source.state_dict(), tmp_path / "imagenet.pt")
    target = tiny(1, 4)
    with pytest.warns(UserWarning, match=r"2 of another shape in the file.*\[1000, 32\] -> \[4, 32\]"):
        report = load_weights(target, tmp_path / "imagenet.pt")
    assert report.adapted == ["0.weight"]
    torch.testing.assert_close(target[0].weight, source[0].weight.sum(dim=1, keepdim=True))
    with pytest.raises(ValueError, match="does not match Sequential exactly"):
        load_weights(tiny(1, 4), tmp_path / "imagenet.pt", strict=True)


def test_a_file_of_another_architecture_is_refused(tmp_path):
    torch.save(nn.LSTM(2, 2).state_dict(), tmp_path / "lstm.pt")
    with pytest.raises(ValueError, match=r"No tensor of .* fits Sequential: is the file for another"):
        load_weights(tiny(), tmp_path / "lstm.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="neither a state dict nor a Lightning checkpoint"):
        load_weights(tiny(), tmp_path / "list.pt")
    torch.save(tiny(), tmp_path / "module.pt")
    with pytest.raises(ValueError, match=r"Cannot read .* weights-only .* torch\.save\(model\.state_dict"):
        load_weights(tiny(), tmp_path / "module.pt")


def test_only_the_first_convolution_is_adapted(tmp_path):
    wide = nn.Sequential(nn.Conv2d(3, 2, 1), nn.Conv2d(2, 2, 1))
    torch.save(wide.state_dict(), tmp_path / "wide.pt")
    narrow = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Conv2d(1, 2, 1))
    with pytest.warns(UserWarning, match=r"1\.weight: \[2, 2, 1, 1\] -> \[2, 1, 1, 1\]"):
        report = load_weights(narrow, tmp_path / "wide.pt")
    assert report.adapted == ["0.weight"]


@pytest.mark.parametrize("in_channels", [1, 6])
def test_adapted_kernels_keep_the_response_to_a_constant_image(in_channels):
    weight = torch.randn(4, 3, 3, 3)
    adapted = adapt_input_channels(weight, in_channels)
    assert adapted.shape == (4, in_channels, 3, 3)
    torch.testing.assert_close(adapted.sum(dim=1), weight.sum(dim=1))


def test_other_channel_counts_repeat_the_trained_channels():
    weight = torch.randn(4, 3, 3, 3)
    torch.testing.assert_close(adapt_input_channels(weight, 2), weight[:, :2] * 1.5)
