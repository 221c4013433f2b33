"""Servers a benchmark starts as subprocesses (gunicorn, Celery workers), each in its own
process group so that stopping it stops its children too."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from _database import ROOT


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Run `command` from the project folder, its output in `log`."""
    with log.open("w") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True
        )


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM the group (a warm shutdown), SIGKILL it after `timeout` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
