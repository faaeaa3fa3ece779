import json
from pathlib import Path

import pytest

from streams.codecs import SchemaRepository
from streams.codecs.compatibility import compatibility_mode, incompatibilities
from streams.codecs.schemas import _load_version

REPOSITORY = SchemaRepository()


@pytest.mark.parametrize("name", REPOSITORY.names())
def test_each_committed_schema_keeps_its_compatibility_mode(name: str) -> None:
    assert incompatibilities(REPOSITORY.versions(name), compatibility_mode(name)) == []


def test_modes_follow_design() -> None:
    assert compatibility_mode("rebound.commands.v1.SendCommand") == "FULL_TRANSITIVE"
    assert compatibility_mode("rebound.events.v1.Order") == "BACKWARD"


def _evolve(tmp_path: Path, name: str, change: dict) -> list:
    """The committed latest version of ``name`` followed by a changed copy as the next version."""
    latest = REPOSITORY.latest(name)
    folder = tmp_path / "x" / latest.path.parent.name
    folder.mkdir(parents=True)
    (folder / "1.avsc").write_text(json.dumps(latest.definition))
    (folder / "2.avsc").write_text(json.dumps({**latest.definition, **change}))
    return [_load_version(folder / "1.avsc"), _load_version(folder / "2.avsc")]


def test_adding_a_field_without_default_breaks_backward(tmp_path: Path) -> None:
    definition = REPOSITORY.latest("rebound.events.v1.Delivery").definition
    fields = [*definition["fields"], {"name": "carrier", "type": "string"}]
    versions = _evolve(tmp_path, "rebound.events.v1.Delivery", {"fields": fields})
    problems = incompatibilities(versions, "BACKWARD")
    assert problems
    assert "carrier" in " ".join(problems)


def test_adding_an_optional_field_keeps_backward(tmp_path: Path) -> None:
    definition = REPOSITORY.latest("rebound.events.v1.Delivery").definition
    fields = [
        *definition["fields"],
        {"name": "carrier", "type": ["null", "string"], "default": None},
    ]
    versions = _evolve(tmp_path, "rebound.events.v1.Delivery", {"fields": fields})
    assert incompatibilities(versions, "BACKWARD") == []


def test_removing_a_required_field_breaks_full_transitive(tmp_path: Path) -> None:
    definition = REPOSITORY.latest("rebound.commands.v1.SendCommand").definition
    fields = [f for f in definition["fields"] if f["name"] != "template"]
    versions = _evolve(tmp_path, "rebound.commands.v1.SendCommand", {"fields": fields})
    assert incompatibilities(versions, "BACKWARD") == []
    assert incompatibilities(versions, "FULL_TRANSITIVE") != []
