"""The committed Avro schemas (``streams/codecs/schemas/``), parsed once at import of the codec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from streams.codecs.exceptions import CodecError

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
"""Inside the package, so that an installed wheel carries them (``schemas/`` at the top of
the repository points here)."""


@dataclass(frozen=True)
class SchemaVersion:
    """One committed version of one record schema."""

    name: str
    """Full name, e.g. ``rebound.events.v1.Order``."""
    version: int
    """The file's number: ``events/Order/2.avsc`` is version 2."""
    definition: dict[str, Any]
    """The schema as written in the file (JSON)."""
    parsed: Any
    """fastavro's parsed form, ready for the reader and writer."""
    plain: Any
    """Parsed without logical types: the same bytes, read as their underlying types (a
    ``timestamp-millis`` stays an int), which saves a third of the decoding time."""
    fingerprint: str
    """CRC-64-AVRO fingerprint of the parsing canonical form, as hex."""
    path: Path


class SchemaRepository:
    """Every version of every schema under one folder, looked up by name or fingerprint."""

    def __init__(self, root: Path = SCHEMAS_DIR) -> None:
        self._by_name: dict[str, list[SchemaVersion]] = {}
        self._by_fingerprint: dict[str, SchemaVersion] = {}
        files = sorted(root.glob("*/*/*.avsc"))
        if not files:
            raise CodecError(f"no Avro schemas under {root}: expected <kind>/<Record>/<n>.avsc")
        for path in files:
            self._add(_load_version(path))
        for versions in self._by_name.values():
            versions.sort(key=lambda v: v.version)

    def _add(self, version: SchemaVersion) -> None:
        self._by_name.setdefault(version.name, []).append(version)
        self._by_fingerprint[version.fingerprint] = version

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def versions(self, name: str) -> list[SchemaVersion]:
        """All versions of ``name``, oldest first."""
        try:
            return list(self._by_name[name])
        except KeyError:
            raise CodecError(f"unknown record schema {name!r}") from None

    def latest(self, name: str) -> SchemaVersion:
        return self.versions(name)[-1]

    def by_fingerprint(self, value: str) -> SchemaVersion | None:
        return self._by_fingerprint.get(value)


def _load_version(path: Path) -> SchemaVersion:
    try:
        definition = json.loads(path.read_text())
        # With the hint, fastavro knows the schema is parsed already; without it, every
        # read and write would parse it again (three times the cost of a read).
        parsed = parse_schema(definition)
        canonical = to_parsing_canonical_form(parse_schema(definition, _write_hint=False))
    except (ValueError, KeyError) as exc:
        raise CodecError(f"{path}: not a valid Avro schema: {exc}") from exc
    name = f"{definition['namespace']}.{definition['name']}"
    return SchemaVersion(
        name=name,
        version=int(path.stem),
        definition=definition,
        parsed=parsed,
        plain=parse_schema(without_logical_types(definition)),
        fingerprint=fingerprint(canonical, "CRC-64-AVRO"),
        path=path,
    )


def without_logical_types(schema: Any) -> Any:
    """``schema`` with every ``logicalType`` annotation removed (the encoding is unchanged)."""
    if isinstance(schema, dict):
        return {k: without_logical_types(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [without_logical_types(item) for item in schema]
    return schema
