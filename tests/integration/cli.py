"""The ``rebound`` command as a user runs it: a child process with the settings (and any
more variables) in its environment."""

from __future__ import annotations

import os
import subprocess
import sys

from streams.settings import Settings


def rebound(
    settings: Settings, *args: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        env={**os.environ, **settings.to_env(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
