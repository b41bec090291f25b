"""Early stops on purpose: a signal asks the run to stop (preemption, Ctrl-C), or its losses diverge.

Both are exceptions the trainer raises after writing what a user needs (a checkpoint to resume from, the
status in summary.json); the CLI turns them into one line and an exit status.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

# SIGUSR2: what SLURM (through submitit) sends before a time limit or on preemption.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT) + ((signal.SIGUSR2,) if hasattr(signal, "SIGUSR2") else ())


class RunStopped(Exception):
    """Base of the deliberate stops; `exit_code` is what the process should exit with, `step` where it stopped."""

    exit_code: int
    step: int


class RunInterrupted(RunStopped):
    def __init__(self, signum: int, epoch: int, step: int, forward: Any = None) -> None:
        self.exit_code = 128 + signum  # the shell's convention: 143 for SIGTERM, 130 for SIGINT
        self.step = step
        self.signum = signum
        self.forward = forward  # the signal's handler before the run's own (submitit's requeue), if any
        name = signal.Signals(signum).name
        super().__init__(
            f"{name} received: stopped after step {step} (epoch {epoch}) and saved a checkpoint; "
            "run the same command with resume=true (or resume=<run folder>) to continue"
        )


class RunDiverged(RunStopped):
    exit_code = 3

    def __init__(self, epoch: int, step: int, name: str, kept_epoch: int) -> None:
        self.step = step
        kept = (
            f"the last good checkpoint (after epoch {kept_epoch}{': the initial weights' if not kept_epoch else ''}) "
            "is kept"
        )
        super().__init__(
            f"diverged at epoch {epoch}, step {step} ({name} is not finite); {kept}. Lower lr, or for a GAN "
            "raise model.d_steps / use wgan_gp, then start a fresh run"
        )


class RunOutOfMemory(RunStopped):
    """The GPU ran out of memory mid-run (a model or batch too large, or too many runs sharing the GPU)."""

    exit_code = 4

    def __init__(self, device: str, kept_epoch: int | None) -> None:
        self.step = 0
        kept = (
            ""
            if kept_epoch is None
            else (
                f"; the last checkpoint ({f'after epoch {kept_epoch}' if kept_epoch else 'the initial weights'}) "
                "is kept"
            )
        )
        super().__init__(
            f"out of GPU memory on {device}{kept}. Lower batch_size or width, run fewer jobs on the GPU at once "
            "(jobs_per_gpu), or keep the dataset in host memory (trainer.data_on_device_max_fraction=0)"
        )


class StopSignals:
    """While active, SIGTERM, SIGINT and SIGUSR2 only set `received`; the loop stops at the next step boundary.

    The first signal restores the previous handlers, so a second Ctrl-C stops the process at once, and keeps
    the one it replaced for that signal as `forward`: when the checkpoint is written, the CLI hands the signal
    on to it (under submitit, that requeues the job). Outside the main thread (where Python cannot install
    handlers) it does nothing.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.forward: Any = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        previous = self._previous.get(signum)
        if callable(previous) and previous is not signal.default_int_handler:
            self.forward = previous
        self._restore()

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()
