"""The docs run: docs/cli.md matches the commands' help, and every example they show works.

Every ``kam`` command of every ``--help`` example, of every shell block (```bash, ```console,
and ``$ `` lines) of README.md and docs/*.md is run, in order, on a copy of ``examples/`` in a
fresh folder. A non-zero exit fails the test unless the line says it (``# exit 1 ...``). What
else a line runs (``python``, ``pip``, ``jq``, ``dot``) is skipped; ``> FILE`` is honoured, so
``kam import --suggest-map ... > map.yaml`` feeds the next line's ``--map map.yaml``.

A reader who copies an example must not change the bundled example workspaces (README's
quickstart would print other numbers): examples that write act on a copy made in a line shown
(``cp -r examples/acme my-acme``), and a page's later blocks find the copies its earlier blocks
made, as its reader does.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_cli_docs.py"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"bash", "console", "sh", "shell"}
_EXIT = re.compile(r"\bexits? (?:code )?(\d)\b")


def test_cli_reference_is_current():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.TARGET.read_text() == module.render(), (
        "docs/cli.md is out of date: run python scripts/gen_cli_docs.py")


@dataclass
class Example:
    """One line a reader would type, and where it is shown."""

    where: str
    line: str
    note: str = ""

    @property
    def allowed(self) -> set[int]:
        """0, and the exit codes the text announces for this line."""
        return {0, *(int(code) for code in _EXIT.findall(self.note))}


@dataclass
class Source:
    """The examples of one help text or one shell block, run in order in one folder.

    ``copies``: the ``cp -r`` lines of the page's earlier blocks, done first."""

    name: str
    examples: list[Example] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)


def help_sources() -> Iterator[Source]:
    """The ``Examples:`` block of every command's help (``kam``, ``kam tree`` ...)."""
    cli = make_cli()

    def walk(command: click.Command, path: list[str], parent: click.Context | None
             ) -> Iterator[Source]:
        ctx = click.Context(command, info_name=path[-1], parent=parent)
        text = command.help or ""
        source = Source("help: " + " ".join(path))
        for line in _joined(text.split("Examples:", 1)[1].splitlines() if "Examples:" in text
                            else []):
            typed, *note = re.split(r"\s{2,}", line.strip(), maxsplit=1)
            if typed.split(" ", 1)[0] in ("kam", "cd", "cp"):
                source.examples.append(Example(source.name, typed, " ".join(note)))
        if source.examples:
            yield source
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, [*path, name], ctx)

    yield from walk(cli, ["kam"], None)


def doc_sources() -> Iterator[Source]:
    """Every shell block of README.md and docs/*.md, and every ``$ `` line of other blocks."""
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        fence: str | None = None
        source = Source("")
        block: list[str] = []
        copies: list[str] = []  # made in the page's top folder by the blocks read so far
        for number, line in enumerate(lines, start=1):
            if line.startswith("```"):
                if fence is None:
                    fence = line[3:].strip()
                    source = Source(f"{doc.relative_to(ROOT)}:{number}", copies=[*copies])
                    block = []
                    continue
                shell = fence in SHELL
                for text in _joined(block):
                    if text.startswith("$ "):
                        text = text[2:]
                    elif not shell:
                        continue
                    command, _, note = text.partition(" #")
                    source.examples.append(Example(source.name, command.strip(), note))
                copies += _top_folder_copies(source.examples)
                if source.examples:
                    yield source
                fence = None
            elif fence is not None:
                block.append(line)


def _top_folder_copies(examples: list[Example]) -> list[str]:
    """The ``cp -r`` lines of a block before it changes folder (``cd``)."""
    copies = []
    for example in examples:
        if example.line.startswith("cd "):
            break
        if example.line.startswith("cp -r "):
            copies.append(example.line)
    return copies


def _joined(lines: list[str]) -> list[str]:
    """Lines with their ``\\`` continuations joined."""
    out: list[str] = []
    carry = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            carry += line.rstrip()[:-1].rstrip() + " "
            continue
        out.append(carry + line.lstrip() if carry else line)
        carry = ""
    return out


SOURCES = [*help_sources(), *doc_sources()]


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_every_example_runs(source: Source, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples",
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    workspaces = [config.parent for config in (tmp_path / "examples").rglob("kam.yaml")]
    shipped = _files(workspaces)
    monkeypatch.chdir(tmp_path)
    for line in source.copies:
        list(_kam_commands(line))
    ran = 0
    for example in source.examples:
        for argv, env, target in _kam_commands(example.line):
            result = CliRunner().invoke(make_cli(), argv, env=env)
            ran += 1
            assert result.exit_code in example.allowed, (
                f"{example.where}: `{example.line}` exited {result.exit_code}:\n"
                f"{result.output}{result.exception if result.exit_code == 70 else ''}")
            if target is not None:
                Path(target).write_text(result.stdout, encoding="utf-8")
    assert ran or all(not e.line.startswith("kam") for e in source.examples)
    assert _files(workspaces) == shipped, (
        f"{source.name} writes into a bundled example: show the change on a copy "
        "(cp -r examples/acme my-acme)")


def _files(folders: list[Path]) -> dict[Path, bytes]:
    """Every file of these folders, but the change lock (git ignores it; a dry run may take
    it)."""
    return {path: path.read_bytes() for folder in folders for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != ".kam.lock"}


def _kam_commands(line: str) -> Iterator[tuple[list[str], dict[str, str], str | None]]:
    """The ``kam`` commands of a shell line: (arguments, environment, ``> FILE`` or None).

    ``cp -r SRC DST`` and ``cd DIR`` are done here (the docs copy the example before changing
    it; help examples change to the folder of a sample export)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|>")
    lexer.whitespace_split = True
    words = list(lexer)
    segment: list[str] = []
    for word in [*words, ";"]:
        if word not in (";", "&&", "|", "||"):
            segment.append(word)
            continue
        env = {}
        while segment and re.fullmatch(r"[A-Z_]+=.*", segment[0]):
            key, _, value = segment.pop(0).partition("=")
            env[key] = value
        target = None
        if ">" in segment:
            at = segment.index(">")
            target, segment = segment[at + 1], segment[:at]
        if segment[:1] == ["kam"]:
            yield segment[1:], env, target
        elif segment[:2] == ["cp", "-r"]:
            shutil.copytree(segment[2], segment[3])
        elif segment[:1] == ["cd"]:
            os.chdir(segment[1])
        segment = []
