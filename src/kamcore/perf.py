"""Small performance helpers shared by the hot paths."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while building many objects that hold no cycles.

    Each automatic collection walks the whole growing heap: loading 100k accounts with the GC on
    takes twice as long. Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
