"""One call-and-check path (kamcore.hookcall): pluggy's own ordering and wrappers work, one
bad-result policy everywhere, a slow hook is named, `kam duties` and the brief agree, and what a
plugin writes to stdout (text, bytes or file descriptor 1) never reaches machine-readable output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kamcore import Duty, changes, hookimpl, load
from kamcore.changes.brief import render_brief
from kamcore.duties import account_duties, roster
from kamcore.hookcall import call_hook, set_hook_timeout
from kamcore.registry import registry_for

pytest_plugins = ["kamcore.testing"]
ROOT = Path(__file__).resolve().parent.parent


def duty(plugin: str) -> Duty:
    return Duty(id=f"{plugin}.duty", title=f"{plugin} duty", source=plugin)


class Early:
    @hookimpl(tryfirst=True)
    def kam_account_duties(self, account, org):
        return [duty("early")]


class Late:
    @hookimpl(trylast=True)
    def kam_account_duties(self, account, org):
        return [duty("late")]


class Plain:
    @hookimpl
    def kam_account_duties(self, account, org):
        return (duty("plain"),)  # a tuple is a list of duties too


class Wrapper:
    """A new-style wrapper sees (and may change) every other plugin's result."""

    @hookimpl(wrapper=True)
    def kam_account_duties(self, account, org):
        results = yield
        return [*results, [duty("wrapped")]]


class BrokenWrapper:
    @hookimpl(wrapper=True)
    def kam_account_duties(self, account, org):
        yield
        raise RuntimeError("wrapper broke")


class HalfBad:
    @hookimpl
    def kam_account_duties(self, account, org):
        return [duty("halfbad"), {"id": "not a duty"}]


@pytest.fixture
def org(org_builder):
    return org_builder().person("P").account("A", manager="P").build()


def sources(org, pm, problems=None):
    found = account_duties(org, pm, org.accounts["A"], problems if problems is not None else [])
    return list(dict.fromkeys(d.source for d in found))


def test_tryfirst_trylast_and_wrappers_work_through_pm_hook(kam_pm, org):
    for plugin in (Late(), Plain(), Early(), Wrapper()):
        kam_pm.register(plugin, name=type(plugin).__name__.lower())
    # core's duties are tryfirst too and registered first, so pluggy calls "early" before them
    assert sources(org, kam_pm) == ["early", "core", "plain", "late", "wrapped"]


def test_a_broken_wrapper_is_named_and_the_result_survives(kam_pm, org):
    kam_pm.register(Plain(), name="plain")
    kam_pm.register(BrokenWrapper(), name="brokenwrapper")
    problems: list = []
    assert sources(org, kam_pm, problems) == ["core", "plain"]
    (problem,) = problems
    assert problem.plugin == "brokenwrapper" and "RuntimeError: wrapper broke" in problem.message


def test_one_bad_item_drops_that_plugins_whole_result_in_duties_and_brief(kam_pm, org):
    kam_pm.register(HalfBad(), name="halfbad")
    problems: list = []
    assert sources(org, kam_pm, problems) == ["core"]
    assert "none of its duties are kept" in problems[0].message


def test_the_brief_and_kam_duties_say_the_same_on_acme(kam_cli):
    pm = kam_cli.pm
    org = load(ROOT / "examples" / "acme", registry=registry_for(pm))
    leaver = next(p for p, accounts in _books(org).items() if len(accounts) >= 1
                  and p.startswith("KAM"))
    receiver = next(p for p in org.people if p.startswith("KAM") and p != leaver)
    plan = changes.handover(org, leaver, to=[receiver])
    accounts = plan.receivers[receiver]
    brief = render_brief(plan, receiver, accounts, pm=pm)
    for aid in accounts:
        for row in roster(plan.after, pm, account=aid).rows:
            if row.delegate:
                assert (f"- [ ] {row.title} ({row.cadence}; delegate to {row.who}: "
                        f"{row.delegate_name} ({row.delegate}); {row.source})") in brief
    assert "Fill sales orders (daily; delegate to customer-service: Lukas Martin (SUP-CS)" \
        in brief


def _books(org):
    books: dict[str, list[str]] = {}
    for account in org.accounts.values():
        if account.manager:
            books.setdefault(account.manager, []).append(account.id)
    return books


class Slow:
    calls = 0

    @hookimpl
    def kam_account_duties(self, account, org):
        Slow.calls += 1
        time.sleep(0.3)
        return [duty("slow")]


def test_a_hook_past_the_time_limit_is_named_dropped_and_skipped_after(kam_pm, org_builder,
                                                                       capsys):
    kam_pm.register(Slow(), name="slow")
    org = (org_builder().person("P").account("A", manager="P").account("B", manager="P")
           .build())
    set_hook_timeout(0.05)
    try:
        built = roster(org, kam_pm)
    finally:
        set_hook_timeout(None)
    assert Slow.calls == 1  # skipped for the second account
    assert {row.source for row in built.rows} == {"core"}
    (problem,) = built.problems
    assert problem.plugin == "slow" and "ran longer than 0.05 s" in problem.message
    err = capsys.readouterr().err
    assert "warning: plugin 'slow' in hook kam_account_duties has run for" in err
    assert "KAM_DISABLE_PLUGINS=slow" in err


def test_outside_call_hook_a_plugin_runs_as_written(kam_pm, org):
    kam_pm.register(HalfBad(), name="halfbad")
    results = kam_pm.hook.kam_account_duties(account=org.accounts["A"], org=org)
    assert [duty("halfbad"), {"id": "not a duty"}] in results
    problems: list = []
    assert call_hook(kam_pm, "kam_register_industries", problems=problems,
                     register=lambda *a, **k: None) == []


NOISY = '''
import os
import sys
from kamcore import hookimpl

os.write(1, b"fd noise at import\\n")


class Plugin:
    @hookimpl
    def kam_register_metrics(self, register):
        sys.stdout.buffer.write(b"bytes noise\\n")
        sys.stdout.buffer.flush()

    @hookimpl
    def kam_account_duties(self, account, org):
        os.write(1, b"fd noise in duties\\n")
        print("print noise")
        return []


plugin = Plugin()
'''

RUN = '''
import sys
from importlib import metadata
import kamcore.plugins
kamcore.plugins.installed_entry_points = lambda group="kamcore": [
    metadata.EntryPoint(name="noisy", value="kam_fd_noisy:plugin", group="kamcore")]
from kamcore.cli.app import make_cli
make_cli().main(sys.argv[1:], prog_name="kam")
'''


@pytest.mark.parametrize("command", [["duties", "--format", "json"],
                                     ["rollup", "--format", "json"],
                                     ["export", "--format", "csv"]])
def test_fd_1_and_stdout_buffer_writes_go_to_stderr(tmp_path, command):
    (tmp_path / "kam_fd_noisy.py").write_text(NOISY)
    (tmp_path / "run_kam.py").write_text(RUN)
    args = [command[0], str(ROOT / "examples" / "acme"), *command[1:]]
    done = subprocess.run([sys.executable, str(tmp_path / "run_kam.py"), *args],
                          capture_output=True, cwd=tmp_path, timeout=120,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode in (0, 1), done.stderr.decode()
    out, err = done.stdout.decode(), done.stderr.decode()
    assert "noise" not in out
    if command[-1] == "json":
        json.loads(out)
    else:
        assert out.startswith("id,")
    assert "fd noise at import" in err
    if command[0] == "duties":
        assert "fd noise in duties" in err and "print noise" in err
    else:
        assert "bytes noise" in err


def test_plugin_commands_keep_fd_1(tmp_path):
    plugin = textwrap.dedent('''
        import os
        from kamcore import hookimpl

        class Plugin:
            @hookimpl
            def kam_add_commands(self, cli):
                @cli.command("say")
                def say():
                    os.write(1, b"said\\n")

        plugin = Plugin()
    ''')
    (tmp_path / "kam_fd_noisy.py").write_text(plugin)
    (tmp_path / "run_kam.py").write_text(RUN)
    done = subprocess.run([sys.executable, str(tmp_path / "run_kam.py"), "say"],
                          capture_output=True, cwd=tmp_path, timeout=120,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert (done.returncode, done.stdout) == (0, b"said\n"), done.stderr


class SlowDeclarations:
    """Slow where a command starts: its declarations and its commands."""

    @hookimpl
    def kam_register_metrics(self, register):
        time.sleep(0.3)
        register("slow_metric")

    @hookimpl
    def kam_add_commands(self, cli):
        time.sleep(0.3)


def _slow_workspace(org_builder, tmp_path, hook_timeout):
    settings = {} if hook_timeout is None else {"hook_timeout": hook_timeout}
    return (org_builder(settings=settings).person("P").account("A", manager="P")
            .write(tmp_path / "org"))


@pytest.mark.parametrize("command", [("validate",), ("rollup",), ("slowcmd",)])
def test_kam_yaml_hook_timeout_applies_from_the_first_hook(kam_pm, kam_cli, org_builder,
                                                           tmp_path, command):
    folder = _slow_workspace(org_builder, tmp_path, 0.05)
    kam_pm.register(SlowDeclarations(), name="slow")
    result = kam_cli.invoke(*command, str(folder), env={"KAM_HOOK_TIMEOUT": "30"})
    # a built-in command needs no plugin commands; an unknown name looks for them first
    hook = "kam_add_commands" if command == ("slowcmd",) else "kam_register_metrics"
    assert (f"warning: plugin 'slow' in hook {hook} has run for" in result.stderr
            and "past the 0.05 s limit (hook_timeout in kam.yaml)" in result.stderr)
    if command == ("validate",):
        assert ("KAM900         error   plugin 'slow' in hook kam_register_metrics: ran longer "
                "than 0.05 s (hook_timeout in kam.yaml)") in result.stdout


def test_without_kam_yaml_hook_timeout_the_variable_applies(kam_pm, kam_cli, org_builder,
                                                            tmp_path):
    folder = _slow_workspace(org_builder, tmp_path, None)
    kam_pm.register(SlowDeclarations(), name="slow")
    assert "ran longer" not in kam_cli.invoke("validate", str(folder)).stderr  # 60 s
    kam_pm.unregister(name="slow")
    kam_pm.register(SlowDeclarations(), name="slow2")
    result = kam_cli.invoke("validate", str(folder), env={"KAM_HOOK_TIMEOUT": "0.05"})
    assert ("plugin 'slow2' in hook kam_register_metrics: ran longer than 0.05 s "
            "(KAM_HOOK_TIMEOUT)") in result.output


def test_the_current_folders_kam_yaml_when_no_argument_names_a_workspace(
        kam_pm, kam_cli, org_builder, tmp_path, monkeypatch):
    monkeypatch.chdir(_slow_workspace(org_builder, tmp_path, 0.05))
    kam_pm.register(SlowDeclarations(), name="slow")
    result = kam_cli.invoke("plugins", "--format", "json")
    assert "plugin 'slow' in hook kam_register_metrics: ran longer than 0.05 s" in result.output


def test_reading_a_workspace_in_python_applies_its_hook_timeout(kam_pm, org_builder,
                                                                tmp_path):
    folder = _slow_workspace(org_builder, tmp_path, 0.05)
    kam_pm.register(SlowDeclarations(), name="slow")
    org = load(folder, pm=kam_pm)
    assert "slow_metric" not in org.metrics
    assert any(p.plugin == "slow" and "ran longer than 0.05 s" in p.message
               for p in org.registry.problems)
