"""The tree shows the architecture (docs/architecture.md, "Where each kind of work lives"),
and these tests hold it: arrows go downwards only; only the edges and the composition root
touch I/O (Faust, mode, aiokafka, kafka-python, Redis, RocksDB, an HTTP client); the top of
``streams/`` holds the layers' folders and the composition root's few modules; development
tools stay outside the installed package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "streams"
IO_MODULES = (
    "faust",
    "mode",
    "aiokafka",
    "kafka",
    "redis",
    "rocksdict",
    "urllib.request",
    "http.client",
    "aiohttp",
    "requests",
    "httpx",
    "socket",
)
"""Modules that reach the network or the disk's stores, by name or prefix."""
COMPOSITION_ROOT = {"__init__.py", "__main__.py", "app.py", "cli.py", "settings.py",
                    "metrics.py", "topology.py", "exceptions.py"}  # fmt: skip
LAYERS = {"engine", "scenarios", "codecs", "pipeline", "edge", "tools"}


def imports(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import under ``streams/<folder>``; ``from a import
    b`` counts as ``a`` and as ``a.b``."""
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        name = str(path.relative_to(PACKAGE))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((name, node.module))
                found += [(name, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def is_io(module: str) -> bool:
    return any(module == io or module.startswith(io + ".") for io in IO_MODULES)


@pytest.mark.parametrize(
    ("folder", "allowed"),
    [
        ("engine", {"streams.engine"}),
        ("scenarios", {"streams.engine", "streams.scenarios", "streams.settings"}),
        ("codecs", {"streams.codecs"}),
        ("pipeline", {"streams.engine", "streams.codecs", "streams.pipeline", "streams.metrics"}),
    ],
)
def test_inner_layers_import_only_what_is_below_them(folder: str, allowed: set[str]) -> None:
    wrong = [
        (name, module)
        for name, module in imports(folder)
        if top(module) == "streams"
        and not module.startswith("streams.exceptions")  # the root exceptions, shared by all
        and not any(module.startswith(a) for a in allowed)
    ]
    assert wrong == [], f"streams/{folder} imports across its layer: {wrong}"


def test_only_the_edges_and_the_composition_root_touch_io() -> None:
    wrong = [
        (name, module)
        for name, module in imports("")
        if is_io(module) and not name.startswith("edge/") and name not in COMPOSITION_ROOT
    ]
    assert wrong == [], f"I/O imported outside streams/edge and the composition root: {wrong}"


def test_the_edges_import_nothing_above_them() -> None:
    wrong = [
        (name, module)
        for name, module in imports("edge")
        if module.startswith(("streams.tools", "streams.app", "streams.cli"))
    ]
    assert wrong == []


def test_faust_and_redis_edges_stay_apart() -> None:
    faust_side = {m for _, m in imports("edge/faust")}
    redis_side = {m for _, m in imports("edge/redis")}
    assert not any(m.startswith("streams.edge.redis") or top(m) == "redis" for m in faust_side)
    assert not any(
        m.startswith("streams.edge.faust") or top(m) in {"faust", "mode", "aiokafka"}
        for m in redis_side
    )


def test_the_top_of_the_package_holds_the_layers_and_the_composition_root() -> None:
    entries = {
        p.name
        for p in PACKAGE.iterdir()
        if p.name != "__pycache__" and (p.is_dir() or p.suffix == ".py")
    }
    assert entries == LAYERS | COMPOSITION_ROOT


def test_the_installed_package_needs_no_development_tool() -> None:
    assert [m for _, m in imports("") if top(m) in {"devtools", "tests", "benchmarks"}] == []


def test_the_rule_catches_an_io_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: a pipeline module importing Redis is caught."""
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "bad.py").write_text(
        "from redis import asyncio\nimport urllib.request\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", tmp_path)
    found = [(n, m) for n, m in imports("") if is_io(m)]
    assert [m for _, m in found] == ["redis", "redis.asyncio", "urllib.request"]
