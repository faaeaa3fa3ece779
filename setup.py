"""Rebound's build: the modules that run for every event are compiled with mypyc.

mypyc turns these type-checked modules into C extensions (the engine, the customer state,
the processor, the Avro codec, the profiles' reading): about a fifth fewer instructions per
event (see the README's benchmarks). Set ``REBOUND_COMPILE=0`` to install them as plain
Python, e.g. to step through them in a debugger or see their lines in a py-spy profile.
Everything else (``pyproject.toml``) is ordinary setuptools metadata.
"""

import os
import shlex
import shutil
import sysconfig
from pathlib import Path

from setuptools import setup

HOT_MODULES = [
    "streams/engine/__init__.py",
    "streams/engine/context.py",
    "streams/engine/decide.py",
    "streams/engine/effects.py",
    "streams/engine/events.py",
    "streams/engine/exceptions.py",
    "streams/engine/ids.py",
    "streams/engine/scenario.py",
    "streams/engine/state.py",
    "streams/engine/timing.py",
    "streams/codecs/avro.py",
    "streams/edge/redis/profiles.py",
    "streams/scenarios/profiles.py",
    "streams/pipeline/commit.py",
    "streams/pipeline/intake.py",
    "streams/pipeline/processor.py",
    "streams/pipeline/stored.py",
    "streams/pipeline/tally.py",
    "streams/pipeline/timers.py",
]


def ext_modules() -> list:
    if os.environ.get("REBOUND_COMPILE", "1") == "0":
        return []
    _check_toolchain()
    from mypyc.build import mypycify

    # Type errors are `make lint`'s business (mypy --strict over the whole package); the
    # compile reads no mypy configuration, and takes a library it cannot see (pip's
    # isolated build environment has none of them) as Any.
    options = ["--config-file=", "--ignore-missing-imports"]
    return mypycify(options + HOT_MODULES, group_name="streams")


def _check_toolchain() -> None:
    """Say what is missing before the compile fails on it, and how to do without."""
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")[0]
    missing = []
    if shutil.which(compiler) is None:
        missing.append(f"a C compiler ({compiler}; e.g. Debian's gcc)")
    if not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        missing.append("Python's C headers (Python.h; e.g. Debian's python3-dev)")
    if missing:
        raise SystemExit(
            f"rebound: compiling the per-event modules needs {' and '.join(missing)}: "
            "install what is missing, or set REBOUND_COMPILE=0 to install Rebound as plain Python"
        )


if __name__ == "__main__":  # as setuptools runs it; tests read HOT_MODULES
    setup(ext_modules=ext_modules())
