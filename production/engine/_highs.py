"""A quiet HiGHS model: highspy prints its banner ("Running HiGHS ...") on stdout when the
first model of the process is constructed, before any option can be set. The first
construction therefore runs with the process's stdout pointed at /dev/null (once, under a
lock); every model then gets output_flag off before anything else happens.

Use new_highs for every highspy model of the process (see THREADS)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading

import highspy

# One thread per model (every model of the process must ask for the same number: HiGHS
# shares one scheduler). The planner runs lines in threads of its own, and the mixed-integer
# programs of small lines ran 10-100 times slower with HiGHS's parallel tasks on a busy
# 2-core machine than with one thread.
THREADS = 1
_lock = threading.Lock()
_banner_done = False


def new_highs() -> highspy.Highs:
    """A highspy.Highs with all output off."""
    global _banner_done
    if not _banner_done:
        with _lock:
            if not _banner_done:
                highs = _construct_silently()
                _banner_done = True
                _quiet(highs)
                return highs
    highs = highspy.Highs()
    _quiet(highs)
    return highs


def _quiet(highs: highspy.Highs) -> None:
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", THREADS)


def _construct_silently() -> highspy.Highs:
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout to protect
        return highspy.Highs()
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            highs = highspy.Highs()
            _flush_c_stdout()
            return highs
        finally:
            os.dup2(saved, 1)
            os.close(null)
    finally:
        os.close(saved)


def _flush_c_stdout() -> None:
    """Write out what the C library buffered while stdout pointed at /dev/null."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)
