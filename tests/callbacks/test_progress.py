"""The console side of the evaluation callbacks: the attack-phase bar and printing on rank 0."""

from __future__ import annotations

from types import SimpleNamespace

from lit_robust.callbacks.progress import AttackProgress, console_print


class RecordingBar:
    def __init__(self) -> None:
        self.printed: list[str] = []

    def print(self, text: str) -> None:
        self.printed.append(text)


def fake_trainer(rank_zero: bool = True, bar: object | None = None) -> SimpleNamespace:
    return SimpleNamespace(is_global_zero=rank_zero, progress_bar_callback=bar)


def test_the_bar_counts_points_and_names_the_running_attack(capsys):
    with AttackProgress(fake_trainer(bar=RecordingBar()), "robust eval (val)", total=10) as progress:
        progress.attack("pgd", 0.05)
        progress.advance(4)
        assert (progress.bar.n, progress.bar.postfix) == (4, "pgd eps=0.05")
        progress.attack("deepfool", None)
        assert progress.bar.postfix == "deepfool"
    assert "robust eval (val)" in capsys.readouterr().err


def test_no_bar_without_the_trainers_progress_bar_or_off_rank_zero(capsys):
    for trainer in (fake_trainer(bar=None), fake_trainer(rank_zero=False, bar=RecordingBar())):
        with AttackProgress(trainer, "robust eval (val)", total=10) as progress:
            progress.advance(10)
        assert progress.bar.disable
    assert capsys.readouterr().err == ""


def test_printing_goes_through_the_progress_bar_on_rank_zero_only(capsys):
    bar = RecordingBar()
    console_print(fake_trainer(bar=bar), "table")
    console_print(fake_trainer(rank_zero=False, bar=bar), "not shown")
    console_print(fake_trainer(), "plain")
    assert bar.printed == ["table"]
    assert capsys.readouterr().out == "plain\n"
