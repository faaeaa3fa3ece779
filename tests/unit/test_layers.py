"""The tree shows the architecture (docs/architecture.md, "Where each kind of work lives"):
arrows go downwards only. The pure engine imports nothing of the shell; the per-batch
pipeline imports no I/O library and nothing of the edges; only the edges and the
composition root touch Faust, aiokafka or Redis; development tools stay outside the
installed package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "streams"
IO_LIBRARIES = {"faust", "mode", "aiokafka", "kafka", "redis", "rocksdict"}


def imports(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import under ``streams/<folder>``."""
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((path.name, node.module))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


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
        if top(module) in IO_LIBRARIES
        or (
            top(module) == "streams"
            and module != "streams.exceptions"  # the root exception, shared by all
            and not any(module.startswith(a) for a in allowed)
        )
        or top(module) == "devtools"
    ]
    assert wrong == [], f"streams/{folder} imports across its layer: {wrong}"


def test_faust_and_redis_edges_stay_apart() -> None:
    faust_side = {m for _, m in imports("edge/faust")}
    redis_side = {m for _, m in imports("edge/redis")}
    assert not any(m.startswith("streams.edge.redis") or top(m) == "redis" for m in faust_side)
    assert not any(
        m.startswith("streams.edge.faust") or top(m) in {"faust", "mode", "aiokafka"}
        for m in redis_side
    )


def test_the_installed_package_needs_no_development_tool() -> None:
    assert [m for _, m in imports("") if top(m) == "devtools"] == []
