"""The install compiles the per-event modules with mypyc (setup.py), unless told not to."""

import importlib
import os
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOT_MODULES = runpy.run_path(str(ROOT / "setup.py"), run_name="not-main")["HOT_MODULES"]


@pytest.mark.skipif(os.environ.get("REBOUND_COMPILE") == "0", reason="installed as plain Python")
@pytest.mark.parametrize("path", HOT_MODULES)
def test_each_per_event_module_runs_compiled(path: str) -> None:
    name = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert module.__file__.endswith(".so"), f"{name} runs as plain Python: make install"
