"""The ``lit-robust fit`` and ``lit-robust test`` arguments of each run of a spec."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lit_robust.experiments.spec import CHECKPOINT, OTHER_SEEDS, Row, Spec

Checkpoints = Callable[[str, int], str]
"""``(row name, seed) -> checkpoint path`` of a row that trains."""


def trained_row(spec: Spec, row: Row) -> Row:
    """The row whose model ``row`` tests: itself, or the row named by its ``checkpoint_of``."""
    return row if row.trains else spec.row(row.checkpoint_of)  # type: ignore[arg-type]


def fit_args(spec: Spec, row: Row, seed: int) -> list[str]:
    """``fit`` arguments of ``row`` (a row that trains) at the spec's ``seed``."""
    return ["fit", *_model_args(spec, row, seed)]


def test_args(spec: Spec, row: Row, seed: int, checkpoints: Checkpoints, callbacks: list[Any]) -> list[str]:
    """``test`` arguments of ``row`` at ``seed``: the trained row's settings, the row's test overrides and
    its overlay followed by ``callbacks``, on the trained row's checkpoint."""
    trained = trained_row(spec, row)
    resolve = _resolver(spec, seed, checkpoints)
    overlay = [*resolve(row.evaluation), *callbacks]
    return [
        "test",
        *_model_args(spec, trained, seed),
        *cli_overrides(resolve(row.test_overrides)),
        f"--trainer.callbacks={json.dumps(overlay)}",
        f"--ckpt_path={checkpoints(trained.name, seed)}",
    ]


def fit_key(spec: Spec, row: Row, seed: int) -> str:
    """The identity of a fit, ``<config name>-<hash of config and overrides>/seed<seed + offset>``: rows (of
    any spec, whatever their names) that train the same model share the fit."""
    settings = json.dumps([row.config, spec.overrides, row.overrides], sort_keys=True)
    digest = hashlib.sha1(settings.encode()).hexdigest()[:10]
    return f"{Path(str(row.config)).stem}-{digest}/seed{seed + row.seed_offset}"


def slug(name: str) -> str:
    """A file name for a row name: ``"PR k=3 (multiple)"`` -> ``"PR_k3_multiple"``."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", name.replace("=", "")).strip("_") or "row"


def cli_overrides(overrides: dict[str, Any]) -> list[str]:
    """``--key=value`` arguments: strings as they are, other values as JSON."""
    return [
        f"--{key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in overrides.items()
    ]


def shell_command(args: list[str]) -> str:
    """``lit-robust ARGS`` as a line to paste into a shell."""
    return " ".join(["lit-robust", *(_quote(a) for a in args)])


def _quote(argument: str) -> str:
    return argument if re.fullmatch(r"[\w./=:@+-]+", argument) else "'" + argument.replace("'", "'\\''") + "'"


def _model_args(spec: Spec, row: Row, seed: int) -> list[str]:
    return [
        "--config",
        str(row.config),
        f"--seed_everything={seed + row.seed_offset}",
        *cli_overrides(spec.overrides),
        *cli_overrides(row.overrides),
    ]


def _resolver(spec: Spec, seed: int, checkpoints: Checkpoints) -> Callable[[Any], Any]:
    """Replaces the checkpoint placeholders (see :mod:`lit_robust.experiments.spec`) in a value."""

    def resolve(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: resolve(v) for key, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if not isinstance(value, str):
            return value
        others = OTHER_SEEDS.match(value)
        if others:
            return [checkpoints(others.group(1), s) for s in spec.seeds if s != seed]
        return CHECKPOINT.sub(lambda match: checkpoints(match.group(1), seed), value)

    return resolve
