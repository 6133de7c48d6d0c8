"""A progress line on stderr, only on a terminal and only when the work takes over a second.

Nothing is printed when stderr is not a TTY (pipes, CI logs, tests) or ``CI`` is set, so
output stays byte-for-byte the same there.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import TextIO


class Progress:
    """Stages of a long job; a daemon thread redraws ``[####----] 2/4 reading facts 1.3s``.

    :param stages: the stage labels, in order (unknown labels still count as a step).
    :param stream: where to draw (stderr).
    :param enabled: force on or off; by default on when ``stream`` is a TTY and not in CI.
    :param delay: seconds before anything is drawn.
    """

    def __init__(self, stages: Sequence[str], *, stream: TextIO | None = None,
                 enabled: bool | None = None, delay: float = 1.0) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)()) \
                and not os.environ.get("CI")
        self.enabled = enabled
        self.stages = list(stages)
        self.delay = delay
        self.index = 0
        self.label = ""
        self.start = time.monotonic()
        self.drawn = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def step(self, label: str) -> None:
        """Start the next stage."""
        self.index = self.stages.index(label) + 1 if label in self.stages else self.index + 1
        self.label = label

    def line(self, width: int = 24) -> str:
        total = max(len(self.stages), self.index, 1)
        filled = round(width * (self.index - 1 if self.index else 0) / total)
        bar = "#" * filled + "-" * (width - filled)
        return (f"[{bar}] {max(self.index, 1)}/{total} {self.label} "
                f"{time.monotonic() - self.start:.1f}s")

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            self.stream.write("\r\033[K" + self.line())
            self.stream.flush()
            self.drawn = True
            self._stop.wait(0.1)
