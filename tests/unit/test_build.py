"""The install compiles the per-event modules with mypyc (setup.py), unless told not to."""

import importlib
import os
import runpy
from pathlib import Path

import pytest

from streams import check_compiled

ROOT = Path(__file__).resolve().parents[2]
SETUP = runpy.run_path(str(ROOT / "setup.py"), run_name="not-main")
HOT_MODULES = SETUP["HOT_MODULES"]


@pytest.mark.skipif(os.environ.get("REBOUND_COMPILE") == "0", reason="installed as plain Python")
@pytest.mark.parametrize("path", HOT_MODULES)
def test_each_per_event_module_runs_compiled(path: str) -> None:
    name = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert module.__file__.endswith(".so"), f"{name} runs as plain Python: make install"


def _checkout(root: Path, *, with_setup: bool = True) -> Path:
    package = root / "streams" / "engine"
    package.mkdir(parents=True)
    if with_setup:
        (root / "setup.py").write_text("")
    (package / "decide.py").write_text("")
    (package / "decide.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    return root / "streams"


def _age(path: Path, seconds: float) -> None:
    stat = path.stat()
    os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))


def test_a_module_edited_after_its_compile_refuses_to_import(tmp_path: Path) -> None:
    package = _checkout(tmp_path)
    _age(package / "engine" / "decide.cpython-311-x86_64-linux-gnu.so", 60)
    with pytest.raises(ImportError, match=r"decide\.py changed after it was compiled"):
        check_compiled(package)


def test_a_module_compiled_after_its_last_edit_imports(tmp_path: Path) -> None:
    package = _checkout(tmp_path)
    _age(package / "engine" / "decide.py", 60)
    check_compiled(package)


def test_an_installed_package_is_not_checked(tmp_path: Path) -> None:
    package = _checkout(tmp_path, with_setup=False)
    _age(package / "engine" / "decide.cpython-311-x86_64-linux-gnu.so", 60)
    check_compiled(package)


def test_a_missing_compiler_is_named_with_the_way_around_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CC", "no-such-cc")
    with pytest.raises(SystemExit, match=r"a C compiler \(no-such-cc.*REBOUND_COMPILE=0"):
        SETUP["_check_toolchain"]()
