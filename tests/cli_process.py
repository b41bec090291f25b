"""`python -m gensweep ...` in a process of its own, forked from a warm interpreter (multiprocessing's forkserver,
which has imported torch, Hydra, matplotlib and gensweep's command line once): each call of conftest.run_cli
then pays for its own work, not for the 3 s of imports every fresh Python process repeats.

The forked process is as separate as a new one: its own working folder, environment, output files, exit code
and exit handlers. What it shares is only modules imported before the fork, none of which has run anything.
This module has no side effects on import: the forked process imports it to find `run`.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import sys
import threading
import time
import traceback

# What the server imports once (gensweep.job is left out: it reads gensweep.STARTED, which `run` resets, when a
# run imports it).
WARM = ["torch", "torch._dynamo", "torchvision", "matplotlib.pyplot", "hydra", "gensweep.cli"]


def run(args: list[str], cwd: str, env: dict[str, str], out: str, err: str) -> None:
    """In the forked process: the command line with `args`, as `python -m gensweep` runs it; exits with its code."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(handle, fd)
        os.close(handle)
    import gensweep

    gensweep.STARTED = time.perf_counter()  # a run's start-up time counts from its own start, as in a new process
    sys.argv = [importlib.util.find_spec("gensweep.__main__").origin, *args]
    code = 0
    try:
        from gensweep.cli import main

        main()
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
        code = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    except BaseException:  # what the interpreter does with an exception nothing caught
        traceback.print_exc()
        code = 1
    # what an interpreter does when it exits, which a forked process's os._exit skips: wait for its non-daemon
    # threads (the joblib launcher's executor manager), then run the exit handlers
    threading._shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
