"""Experiments: every results table from a committed spec, run through ``lit-robust fit`` and ``test``.

``lit-robust-experiments run SPEC`` trains and tests each row x seed of a spec (see
:mod:`lit_robust.experiments.spec` for the format) and ``lit-robust-experiments table SPEC`` renders its
markdown table.
"""

from lit_robust.experiments.runner import Runner
from lit_robust.experiments.spec import Column, Row, Spec, SpecError, load_spec
from lit_robust.experiments.store import ResultStore
from lit_robust.experiments.table import render

__all__ = ["Column", "ResultStore", "Row", "Runner", "Spec", "SpecError", "load_spec", "render"]
