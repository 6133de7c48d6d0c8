from __future__ import annotations

from click.testing import CliRunner

from kamcore.cli.app import make_cli
from kamcore.plugins import get_plugin_manager


def test_example_org_validates_clean(acme_path):
    result = CliRunner().invoke(make_cli(get_plugin_manager(load_entrypoints=False)),
                                ["validate", str(acme_path)])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output
