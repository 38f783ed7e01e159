"""Validating ``lit-robust`` argument lists without building anything: the dry run of a spec."""

from __future__ import annotations

import contextlib
import io
from typing import Any, ClassVar

from lit_robust.cli import RobustCLI
from lit_robust.data import ImageDataModule
from lit_robust.defenses import RobustClassifier


class _ParseOnlyCLI(RobustCLI):
    """``lit-robust`` with its parser built once per process (a dry run parses dozens of argument lists; the
    parser of every subcommand takes as long to build as one parse)."""

    _built: ClassVar[dict[str, Any]] = {}

    def setup_parser(self, add_subcommands: bool, main_kwargs: dict, subparser_kwargs: dict) -> None:
        if not self._built:
            super().setup_parser(add_subcommands, main_kwargs, subparser_kwargs)
            self._built.update(parser=self.parser, methods=self._subcommand_method_arguments)
        self.parser, self._subcommand_method_arguments = self._built["parser"], self._built["methods"]


def rejection(args: list[str]) -> str | None:
    """Parses ``lit-robust ARGS --print_config`` (types, class paths and init args are checked; nothing is
    built). Returns ``None`` if the arguments are valid, else the CLI's error message."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
            _ParseOnlyCLI(
                RobustClassifier, ImageDataModule, subclass_mode_model=True, subclass_mode_data=False,
                args=[*args, "--print_config"], auto_configure_optimizers=False,
            )  # fmt: skip
    except SystemExit as stop:
        return None if stop.code in (0, None) else "\n".join(errors.getvalue().strip().splitlines()[-12:])
    return "--print_config did not stop the CLI"
