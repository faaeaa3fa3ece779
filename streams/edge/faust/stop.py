"""Stopping the worker when it must: promptly, with a non-zero exit code, never half-stopped."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

STOP_TIMEOUT_S = 20.0
"""A worker that must stop and has not within this long exits anyway (code 70), so that its
supervisor restarts it rather than finding it half-stopped (Faust's stop can wait forever
on a stream that waits on the broker: "Wait for streams...")."""
EXIT_STUCK = 70
log = logging.getLogger(__name__)


async def stop_worker(app: Any, error: BaseException) -> None:
    """Stop the worker with ``error``: Faust's clean stop, bounded by ``STOP_TIMEOUT_S``
    (a stop can wait forever on a stream that waits on the broker)."""
    bound_the_stop()
    await app.crash(error)


_armed: list[threading.Timer] = []


def bound_the_stop(
    timeout_s: float = STOP_TIMEOUT_S, exit_stuck: Callable[[], None] | None = None
) -> threading.Timer:
    """From now on, the process exits within ``timeout_s`` whatever its stop waits for
    (Redis away, the broker away). Exiting then loses nothing: the commit protocol survives a
    crash at any instant. Idempotent: the first watchdog armed is the one."""
    if not _armed:
        watchdog = threading.Timer(timeout_s, exit_stuck or _exit_stuck)
        watchdog.daemon = True
        watchdog.start()
        _armed.append(watchdog)
    return _armed[0]


def _exit_stuck() -> None:
    log.error("the worker did not stop within %.0f s; exiting", STOP_TIMEOUT_S)
    logging.shutdown()
    os._exit(EXIT_STUCK)
