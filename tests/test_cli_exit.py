"""``kam``'s entry point ends the process without tearing every module down: all that anyone
sees of the exit stays as the interpreter's own exit leaves it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kamcore.cli.app import make_cli


def run_main(argv: list[str], before: str = "", cwd: Path | None = None
             ) -> subprocess.CompletedProcess[str]:
    code = (f"import atexit, sys, threading, time\nsys.argv = {['kam', *argv]!r}\n{before}\n"
            "from kamcore.cli.app import main\nmain()\nprint('after main', file=sys.stderr)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_stdout_is_whole_and_the_status_kept(acme_path: Path) -> None:
    argv = ["rollup", str(acme_path), "--format", "csv"]
    done = run_main(argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout == CliRunner().invoke(make_cli(), argv).stdout
    assert "after main" not in done.stderr  # the process ended in main()
    assert run_main(["rollup", str(acme_path), "-m", "no_such_metric"]).returncode == 2
    assert run_main(["no-such-command"]).returncode == 2


def test_objects_are_not_torn_down_one_by_one(acme_path: Path) -> None:
    kept = ("class Kept:\n    def __del__(self):\n        print('torn down', file=sys.stderr)\n"
            "kept = Kept()")
    done = run_main(["validate", str(acme_path)], kept)
    assert done.returncode == 0 and "torn down" not in done.stderr


def test_exit_handlers_run(acme_path: Path) -> None:
    done = run_main(["validate", str(acme_path)],
                    "atexit.register(lambda: print('handler', file=sys.stderr))")
    assert done.returncode == 0 and done.stderr.count("handler") == 1


def test_a_thread_still_working_is_waited_for(acme_path: Path, tmp_path: Path) -> None:
    marker = tmp_path / "written"
    worker = (f"threading.Thread(target=lambda: (time.sleep(0.5), "
              f"open({str(marker)!r}, 'w').write('done'))).start()")
    done = run_main(["validate", str(acme_path)], worker)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "done"


def test_a_profiler_still_gets_to_write_its_results(acme_path: Path, tmp_path: Path) -> None:
    """``python -m cProfile -o F kam ...`` writes F after the command returns: kam's early
    exit must not take that away from anyone profiling it."""
    import shutil

    kam = shutil.which("kam")
    assert kam, "the kam console script is installed with the project"
    profile = tmp_path / "kam.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), kam,
                           "validate", str(acme_path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert profile.stat().st_size > 0
