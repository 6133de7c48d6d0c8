"""A workspace's own metrics in kam.yaml: a bad definition is refused alike by every command."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager


@pytest.mark.parametrize(("spec", "message"), [
    ("{aggregation: bogus}", "metric 'm4': aggregation: Input should be 'sum', 'count'"),
    ("{aggregation: wmean}", "metric 'm4': aggregation 'wmean' needs a weight metric"),
    ("{aggregation: wmean, weight: nosuch}", "metric 'm4' is weighted by 'nosuch'"),
])
def test_bad_workspace_metric_is_located_in_every_command(acme_path, tmp_path, spec, message):
    ws = tmp_path / "ws"
    shutil.copytree(acme_path, ws)
    text = (ws / "kam.yaml").read_text()
    assert "metrics: {}\n" in text
    line = text[: text.index("metrics: {}")].count("\n") + 2  # the line of m4
    (ws / "kam.yaml").write_text(text.replace("metrics: {}\n", f"metrics:\n  m4: {spec}\n"))
    cli = make_cli(get_plugin_manager(load_entrypoints=False))
    for command in (["validate"], ["rollup", "-m", "revenue"], ["tree"], ["chart", "-o",
                                                                          str(tmp_path / "c")]):
        result = CliRunner().invoke(cli, [command[0], str(ws), *command[1:]])
        assert result.exit_code == 2, (command, result.output)
        assert f"kam.yaml:{line}: {message}" in result.output, (command, result.output)
        assert "Traceback" not in result.output and "bug in kamcore" not in result.output


def test_weight_declared_in_kam_yaml_is_fine(acme_path, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(acme_path, ws)
    text = (ws / "kam.yaml").read_text()
    (ws / "kam.yaml").write_text(text.replace(
        "metrics: {}\n", "metrics:\n  m4: {aggregation: wmean, weight: orders}\n"))
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["validate", str(ws)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("depth", [100, 20_000])
def test_deeply_nested_kam_yaml_is_refused_not_a_crash(acme_path, tmp_path, depth):
    ws = tmp_path / "ws"
    shutil.copytree(acme_path, ws)
    with (ws / "kam.yaml").open("a") as handle:
        handle.write("deep: " + "[" * depth + "]" * depth + "\n")
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["validate", str(ws)])
    assert result.exit_code == 2, result.output
    assert "kam.yaml" in result.output and "nest" in result.output
    assert "bug in kamcore" not in result.output
