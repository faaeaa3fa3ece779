"""Writes the schemas of the operators' resources the chart renders (``make crd-schemas``).

The chart's ``KafkaTopic`` and ``KafkaUser`` (Strimzi) and ``ServiceMonitor`` and
``PrometheusRule`` (Prometheus Operator) are not in Kubernetes' own schemas, so
``tests/deploy`` checks them against their operators' CRDs, committed in
``tests/deploy/crds`` (one ``openAPIV3Schema`` per kind and version) so that the check needs
neither a network nor a second Java. This module makes those files from the registries:

- Strimzi: its ``api`` classes and ``crd-generator`` from Maven Central, run as Strimzi's own
  build runs them. ``kafka.strimzi.io/v1`` from Strimzi 1.2.0 (which needs Java 21 or newer:
  ``REBOUND_CRD_JAVA``, else the first ``/usr/lib/jvm/*`` of version 21 or more), and
  ``v1beta2`` from Strimzi 0.45.0 (the last that stores it) with the machine's Java.
- Prometheus Operator: the CRDs its Go module ships (``example/prometheus-operator-crd``),
  downloaded with ``go mod download``.

Run it again to follow a newer operator: change the versions below and commit the diff.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from devtools.localstack.process import cache_dir

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "deploy" / "crds"
POM = Path(__file__).resolve().parent / "crds" / "pom.xml"

STRIMZI = {
    # version of the API: (Strimzi release, needs Java 21+)
    "v1": ("1.2.0", True),
    "v1beta2": ("0.45.0", False),
}
STRIMZI_CLASSES = {
    "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic",
    "KafkaUser": "io.strimzi.api.kafka.model.user.KafkaUser",
}
PROMETHEUS_OPERATOR = ("github.com/prometheus-operator/prometheus-operator", "v0.85.0")
PROMETHEUS_CRDS = {
    "ServiceMonitor": "monitoring.coreos.com_servicemonitors.yaml",
    "PrometheusRule": "monitoring.coreos.com_prometheusrules.yaml",
}


class CrdSchemaError(Exception):
    """A registry or a tool did not give what was needed."""


def run(command: list[str], what: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise CrdSchemaError(f"{what} failed:\n{(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def java_major(java: Path) -> int:
    done = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r'version "(\d+)', done.stderr)
    return int(found.group(1)) if found else 0


def find_java(modern: bool) -> str:
    if not modern:
        return shutil.which("java") or "java"
    named = os.environ.get("REBOUND_CRD_JAVA")
    candidates = [Path(named)] if named else sorted(Path("/usr/lib/jvm").glob("*/bin/java"))
    for java in candidates:
        if java.exists() and java_major(java) >= 21:
            return str(java)
    raise CrdSchemaError(
        "Strimzi's 1.x CRD generator needs Java 21 or newer: set REBOUND_CRD_JAVA to its "
        "bin/java (none found under /usr/lib/jvm)"
    )


def strimzi_crds(api_version: str) -> dict[str, dict[str, Any]]:
    release, modern = STRIMZI[api_version]
    libs = cache_dir() / f"strimzi-{release}" / "libs"
    if not (libs / ".complete").exists():
        libs.mkdir(parents=True, exist_ok=True)
        run(
            ["mvn", "-q", "-B", "-f", str(POM), f"-Dstrimzi.version={release}",
             "dependency:copy-dependencies", f"-DoutputDirectory={libs}"],
            f"Maven fetching io.strimzi:api and crd-generator {release}",
        )  # fmt: skip
        (libs / ".complete").touch()
    with tempfile.TemporaryDirectory() as tmp:
        targets = {kind: Path(tmp) / f"{kind}.yaml" for kind in STRIMZI_CLASSES}
        run(
            [find_java(modern), "-cp", f"{libs}/*", "io.strimzi.crdgenerator.CrdGenerator",
             "--yaml", "--api-versions", api_version, "--storage-version", api_version,
             *(f"{STRIMZI_CLASSES[kind]}={path}" for kind, path in targets.items())],
            f"Strimzi {release}'s CRD generator",
        )  # fmt: skip
        return {
            kind: schema_of(yaml.safe_load(path.read_text()), api_version, f"Strimzi {release}")
            for kind, path in targets.items()
        }


def prometheus_crds() -> dict[str, dict[str, Any]]:
    module, version = PROMETHEUS_OPERATOR
    download = ["go", "mod", "download", "-json", f"{module}@{version}"]
    folder = Path(json.loads(run(download, "go mod download"))["Dir"])
    folder = folder / "example" / "prometheus-operator-crd"
    source = f"prometheus-operator {version}"
    return {
        kind: schema_of(yaml.safe_load((folder / name).read_text()), "v1", source)
        for kind, name in PROMETHEUS_CRDS.items()
    }


def schema_of(crd: dict[str, Any], api_version: str, source: str) -> dict[str, Any]:
    for served in crd["spec"]["versions"]:
        if served["name"] == api_version:
            return {
                "group": crd["spec"]["group"],
                "version": api_version,
                "kind": crd["spec"]["names"]["kind"],
                "source": source,
                "openAPIV3Schema": served["schema"]["openAPIV3Schema"],
            }
    kind = crd["spec"]["names"]["kind"]
    raise CrdSchemaError(f"{source}'s {kind} CRD does not serve {api_version}")


def write(found: dict[str, Any]) -> Path:
    path = OUT / f"{found['group']}_{found['version']}_{found['kind']}.json"
    path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.crd_schemas", description=__doc__)
    parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        schemas = [*prometheus_crds().values()]
        for api_version in STRIMZI:
            schemas += strimzi_crds(api_version).values()
    except CrdSchemaError as error:
        print(f"crd-schemas: {error}", file=sys.stderr)
        return 1
    for found in schemas:
        print(f"{write(found).relative_to(ROOT)}  ({found['source']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
