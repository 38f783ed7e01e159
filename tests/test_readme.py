"""README.md runs as written: every fenced block is run or checked, in order, in a temporary folder.

The folder holds a tiny fake Fashion-MNIST (random images in the real file format) under ``data/``, links to
the repository's ``configs/`` and ``tools/``, and ``.venv`` pointing at the running interpreter's
environment. The rules (also stated in the README's Development section):

- ``bash`` blocks run line by line (``\\`` continuations joined, comments dropped, ``&&`` chains in order,
  ``NAME=value`` prefixes applied). ``lit-robust`` commands run in this process with :data:`TINY` appended;
  ``python`` scripts run in this process; ``make`` targets run the Makefile with this interpreter's
  environment and :data:`TINY` as ``DEMO_ARGS``; ``tensorboard`` is started and stopped once it serves; a
  chain that installs packages (``pip install``) is checked instead: the extras it names must exist.
- ``python`` blocks run in order in one namespace; ``yaml`` blocks must parse.
- A ``python`` or ``yaml`` block whose first line is a comment naming a file (``# my_project/x.py``) is
  written to that file instead.
- ``<!-- readme: file PATH -->`` on the line before a block: the block is the repository file PATH verbatim.
- ``<!-- readme: skip REASON -->`` on the line before a block: not run; the reason is required.
- ``text`` blocks are output and not run; any other language fails the test.
"""

from __future__ import annotations

import contextlib
import os
import re
import runpy
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomllib
import torch
import yaml

from lit_robust.cli import run_cli
from lit_robust.data.idx import write_idx
from lit_robust.data.mnist import IDX_FILES
from lit_robust.experiments.__main__ import main as experiments_main

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
LANGUAGES = {"bash", "python", "yaml", "text"}
FENCE = re.compile(r"^```(?P<language>[\w-]*)\n(?P<text>.*?)^```$", re.MULTILINE | re.DOTALL)
DIRECTIVE = re.compile(r"<!-- readme: (?P<kind>skip|file)(?P<argument>[^>]*?)-->\s*\Z")
FILE_COMMENT = re.compile(r"\A# (?P<path>[\w./-]+\.(?:py|yaml))\n")
TINY = [
    "--trainer.max_epochs=1",
    "--trainer.limit_train_batches=2",
    "--data.val_size=48",
    "--trainer.log_every_n_steps=1",
    "--trainer.enable_model_summary=false",
]
"""Appended to every ``lit-robust`` subcommand of the README: one short epoch, a small validation split."""
LIT_ROBUST = {"lit-robust", ".venv/bin/lit-robust"}
EXPERIMENTS = {"lit-robust-experiments", ".venv/bin/lit-robust-experiments"}
PYTHON = {"python", "python3", ".venv/bin/python"}
TENSORBOARD = {"tensorboard", ".venv/bin/tensorboard"}


@dataclass
class Block:
    language: str
    text: str
    line: int
    directive: str | None = None
    argument: str = ""

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.language} block)"


def readme_blocks() -> list[Block]:
    """The fenced blocks of README.md with the directive on the line before each, if any."""
    source = README.read_text()
    blocks = []
    for match in FENCE.finditer(source):
        before = source[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        directive = DIRECTIVE.search(before)
        blocks.append(
            Block(
                language=match["language"],
                text=match["text"],
                line=source.count("\n", 0, match.start()) + 1,
                directive=directive["kind"] if directive else None,
                argument=directive["argument"].strip() if directive else "",
            )
        )
    return blocks


def test_every_block_has_a_known_language_and_every_directive_its_argument():
    blocks = readme_blocks()
    assert blocks
    for block in blocks:
        assert block.language in LANGUAGES, f"{block.where}: give the fence one of {sorted(LANGUAGES)}"
        if block.directive:
            assert block.argument, f"{block.where}: '{block.directive}' needs a reason or a path"


def test_blocks_marked_as_a_file_are_that_file_verbatim():
    marked = [b for b in readme_blocks() if b.directive == "file"]
    assert marked, "the quick-start YAML is shown from configs/quickstart.yaml"
    for block in marked:
        expected = (ROOT / block.argument).read_text()
        assert block.text == expected, f"{block.where} differs from {block.argument}"


def commands(text: str) -> list[str]:
    """The shell commands of a bash block: continuations joined, comments and blank lines dropped."""
    joined = text.replace("\\\n", " ")
    return [line for line in joined.splitlines() if shlex.split(line, comments=True)]


class ReadmeRunner:
    """Runs the blocks of the README in a prepared folder (see the module docstring)."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.monkeypatch = monkeypatch
        self.namespace: dict = {"__name__": "readme"}

    def run(self, block: Block) -> None:
        if block.directive == "skip" or block.language == "text":
            return
        written = FILE_COMMENT.match(block.text) if block.language in ("python", "yaml") else None
        if written:
            path = self.folder / written["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text)
        elif block.language == "yaml":
            assert yaml.safe_load(block.text) is not None, block.where
        elif block.language == "python":
            exec(compile(block.text, block.where, "exec"), self.namespace)
        else:
            for line in commands(block.text):
                self.shell_line(line, block)

    def shell_line(self, line: str, block: Block) -> None:
        words = shlex.split(line, comments=True)
        if "install" in words and any(Path(word).name == "pip" for word in words):
            check_extras(words)
            return
        chain: list[list[str]] = [[]]
        for word in words:
            chain.append([]) if word == "&&" else chain[-1].append(word)
        for command in chain:
            self.command(command, block)

    def command(self, words: list[str], block: Block) -> None:
        environment = {}
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            name, _, value = words.pop(0).partition("=")
            environment[name] = value
        program, args = words[0], words[1:]
        with self.environment(environment):
            if program in LIT_ROBUST:
                tiny = TINY if args and args[0] in ("fit", "validate", "test", "predict") else []
                exits_zero(run_cli, [*args, *tiny], block)
            elif program in EXPERIMENTS:
                assert "--dry-run" in args or args[0] == "table", f"{block.where}: only dry runs and tables"
                exits_zero(experiments_main, args, block)
            elif program in PYTHON:
                module = args[0] == "-m"
                with self.monkeypatch.context() as patch:
                    patch.setattr(sys, "argv", args[1:] if module else args)
                    run = runpy.run_module if module else runpy.run_path
                    run(args[1] if module else args[0], run_name="__main__")
            elif program == "make":
                make(self.folder, args)
            elif program in TENSORBOARD:
                serve_tensorboard(self.folder, args)
            else:
                pytest.fail(f"{block.where}: no runner for {program!r}; add one here or a skip directive")

    @contextlib.contextmanager
    def environment(self, variables: dict[str, str]):
        added = [str(self.folder / v) for k, v in variables.items() if k == "PYTHONPATH"]
        unknown = set(variables) - {"PYTHONPATH"}
        assert not unknown, f"no rule for the variables {sorted(unknown)}"
        sys.path[:0] = added
        try:
            yield
        finally:
            del sys.path[: len(added)]


def exits_zero(command, args: list[str], block: Block) -> None:
    """Runs an in-process entry point; a ``SystemExit`` (``--help``, ``--print_config``) must be status 0."""
    try:
        command(args)
    except SystemExit as exit_info:
        assert exit_info.code in (0, None), f"{block.where}: {' '.join(args)} exited with {exit_info.code}"


def check_extras(words: list[str]) -> None:
    """An install command's ``.[extra,...]`` names extras of pyproject.toml."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for word in words:
        if match := re.fullmatch(r"\.\[([\w,-]+)\]", word):
            assert set(match[1].split(",")) <= set(extras), word


def make(folder: Path, args: list[str]) -> None:
    """Runs ``make ARGS`` with the repository's Makefile in ``folder`` and this interpreter's environment."""
    command = [
        "make", "-f", str(ROOT / "Makefile"), *args, f"BIN={Path(sys.executable).parent}", "STAMP=",
        f"DEMO_ARGS={' '.join(TINY)}",
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, timeout=300)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"make {' '.join(args)} failed:\n{output}"


def serve_tensorboard(folder: Path, args: list[str]) -> None:
    """Starts TensorBoard with ``args``, waits until it says where it serves, and stops it."""
    program = Path(sys.executable).with_name("tensorboard")
    process = subprocess.Popen(
        [str(program), *args, "--host", "127.0.0.1"], cwd=folder, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if "http://" in line:
                return
            assert line or process.poll() is None, "tensorboard exited before serving"
        pytest.fail("tensorboard did not start serving within 60 s")
    finally:
        process.terminate()
        process.wait(timeout=30)


def fake_fashion_mnist(directory: Path, train: int = 256, test: int = 128) -> None:
    """Random 28x28 uint8 images and labels in Fashion-MNIST's four gzip IDX files."""
    generator = torch.Generator().manual_seed(0)
    directory.mkdir(parents=True)
    for split, count in (("train", train), ("test", test)):
        images = torch.randint(0, 256, (count, 28, 28), generator=generator, dtype=torch.uint8)
        labels = (torch.arange(count) % 10).to(torch.uint8)
        for name, array in zip(IDX_FILES[split], (images, labels), strict=True):
            write_idx(directory / f"{name}.gz", array)


@pytest.mark.timeout(900)  # about 30 s of CPU, but make demo runs two processes on a possibly busy machine
def test_readme_runs_as_written(tmp_path, monkeypatch):
    fake_fashion_mnist(tmp_path / "data" / "FashionMNIST" / "raw")
    for name in ("configs", "tools"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    monkeypatch.chdir(tmp_path)
    runner = ReadmeRunner(tmp_path, monkeypatch)
    for block in readme_blocks():
        runner.run(block)
    assert (tmp_path / "lightning_logs" / "quickstart" / "demo" / "test" / "config.yaml").is_file()
    assert (tmp_path / "data" / "MNIST-sample").is_dir()
    configs = (tmp_path / "lightning_logs" / "quickstart").glob("version_*/config.yaml")
    assert any("GaussianAugmentation" in config.read_text() for config in configs)
