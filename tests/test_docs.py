"""Every ``gongbao`` command is documented: a docstring ending with a runnable ``Example:`` (sqlite-utils
style), working ``--help``, and a mention in the README."""
from __future__ import annotations

import shlex

import click
import pytest
from click.testing import CliRunner

from conftest import ROOT
from pipeline.cli import cli


def commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every (sub)command of GROUP with its path of names, groups included."""
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        out.append(((*path, name), cmd))
        if isinstance(cmd, click.Group):
            out += commands(cmd, (*path, name))
    return out


COMMANDS = commands()
IDS = [" ".join(p) for p, _ in COMMANDS]


def example_of(cmd: click.Command) -> str:
    """The text after ``Example:`` in the last paragraph of the command's docstring."""
    paragraphs = [p.strip() for p in (cmd.help or "").strip().split("\n\n") if p.strip()]
    assert paragraphs, "no docstring"
    last = paragraphs[-1]
    assert last.startswith("Example:"), f"the docstring's last paragraph should start with 'Example:', not {last!r}"
    return last[len("Example:"):].strip()


def test_there_are_commands():
    assert {"normalize", "extract", "ingest", "serve", "compare", "conflicts", "duplicates"} <= set(IDS)


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=IDS)
def test_docstring_ends_with_a_valid_example(path, cmd):
    assert (cmd.short_help or cmd.help or "").strip(), "missing summary line"
    example = shlex.split(example_of(cmd))
    assert example[: len(path) + 1] == ["gongbao", *path], f"the example should run `gongbao {' '.join(path)}`"
    args = example[len(path) + 1:]
    if isinstance(cmd, click.Group):
        return
    # The example's options and arguments parse (nothing runs).
    cmd.make_context(" ".join(["gongbao", *path]), list(args), resilient_parsing=False)
    for a in args:
        if a.startswith("corpus/"):
            assert (ROOT / a).exists(), f"the example names {a}, which does not exist"


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=IDS)
def test_help_works(path, cmd):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=IDS)
def test_readme_mentions_every_command(path, cmd):
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md not written yet")
    assert f"gongbao {' '.join(path)}" in readme.read_text(encoding="utf-8")
