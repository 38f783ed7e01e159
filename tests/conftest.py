"""Shared test settings: small, deterministic, CPU only."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> Iterator[None]:
    """The tensors in the tests are tiny: one intra-op thread is as fast, and does not spin-wait for a core
    when other processes share the machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _no_pytest_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests call ``lit_robust.cli.run_cli(args)``: pytest's arguments must not look like CLI arguments."""
    monkeypatch.setattr(sys, "argv", sys.argv[:1])
