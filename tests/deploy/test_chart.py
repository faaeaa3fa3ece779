"""The Helm chart (deploy/helm/rebound) rendered as a platform team would install it: with its
default values and with every option on, each manifest valid against Kubernetes' schemas (the
operators' resources against their CRDs, ``tests/deploy/crds``), its topics the same list as
the worker's (``streams.topology``), its Kafka user allowed what the worker does, and no
secret in a manifest.

``make deploy-check`` installs helm (``go install``, into the cache) and runs these."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from streams.settings import Settings
from streams.topology import topic_specs

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "rebound"
FULL = CHART / "ci" / "full-values.yaml"
CRDS = Path(__file__).resolve().parent / "crds"
"""The operators' schemas (Strimzi, Prometheus Operator), made by ``make crd-schemas``."""


def helm() -> str:
    cache = Path(os.environ.get("REBOUND_CACHE_DIR", Path.home() / ".cache" / "rebound"))
    built = cache / "bin" / "helm"  # where `make deploy-check` builds it
    found = os.environ.get("REBOUND_HELM") or shutil.which("helm")
    found = found or (str(built) if built.exists() else None)
    if not found:
        pytest.skip("helm is not installed: `make deploy-check` installs it and runs these")
    return found


def render(*values: Path, **sets: str) -> list[dict[str, Any]]:
    command = [helm(), "template", "rb", str(CHART), "--namespace", "shop"]
    for path in values:
        command += ["-f", str(path)]
    for key, value in sets.items():
        command += ["--set", f"{key}={value}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    for node in yaml.compose_all(done.stdout):
        assert_no_duplicate_keys(node)
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def assert_no_duplicate_keys(node: yaml.Node | None) -> None:
    """kubectl refuses a mapping that names a key twice; PyYAML keeps the last one."""
    if isinstance(node, yaml.MappingNode):
        keys = [k.value for k, _ in node.value]
        assert len(keys) == len(set(keys)), f"a key twice at line {node.start_mark.line + 1}"
        for _, value in node.value:
            assert_no_duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            assert_no_duplicate_keys(item)


@pytest.mark.parametrize("values", [(), (FULL,)], ids=["defaults", "full"])
def test_every_manifest_is_valid_kubernetes(values: tuple[Path, ...]) -> None:
    docs = render(*values)
    kinds = {d["kind"] for d in docs}
    assert {"StatefulSet", "Service", "PodDisruptionBudget"} <= kinds
    for doc in docs:
        validate(doc)


@pytest.mark.parametrize("api_version", ["kafka.strimzi.io/v1", "kafka.strimzi.io/v1beta2"])
def test_the_strimzi_resources_fit_the_operator_s_api(api_version: str) -> None:
    docs = render(FULL, **{"strimzi.apiVersion": api_version})
    strimzi = [d for d in docs if d["apiVersion"] == api_version]
    assert {d["kind"] for d in strimzi} == {"KafkaTopic", "KafkaUser"}
    for doc in strimzi:
        validate(doc)


def test_a_resource_the_operator_would_refuse_is_caught() -> None:
    [topic, *_] = by_kind(render(FULL), "KafkaTopic")
    for broken in (
        {**topic, "spec": {**topic["spec"], "partitions": "twelve"}},
        # a typo, which kubectl apply --validate=strict refuses
        {**topic, "spec": {**topic["spec"], "replica": 3}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_a_broken_template_fails_the_lint(tmp_path: Path) -> None:
    chart = tmp_path / "rebound"
    shutil.copytree(CHART, chart)
    service = chart / "templates" / "service.yaml"
    service.write_text(service.read_text().replace("}}", "}", 1))
    done = subprocess.run(
        [helm(), "lint", "--strict", str(chart)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    assert "service.yaml" in done.stdout + done.stderr


def validate(doc: dict[str, Any]) -> None:
    """Kubernetes' own kinds by kubernetes-validate; an operator's kind by its CRD's schema,
    strict as ``kubectl apply --validate=strict``: an unknown field is an error."""
    group, _, version = doc["apiVersion"].rpartition("/")
    path = CRDS / f"{group}_{version}_{doc['kind']}.json"
    if not path.exists():  # Kubernetes' own (an unknown kind fails there too)
        kubernetes_validate.validate(doc, "1.33.0", strict=True)
        return
    schema = strict(json.loads(path.read_text())["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    jsonschema.Draft7Validator(schema).validate(doc)


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI v3 structural schema as JSON Schema: ``nullable`` allows null, int-or-string
    allows both, and an object that lists its properties refuses others."""
    schema = copy.deepcopy(schema)
    if schema.pop("x-kubernetes-int-or-string", False):
        schema.pop("type", None)
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.pop("nullable", False) and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    for key in ("properties", "patternProperties"):
        if key in schema:
            schema[key] = {name: strict(sub) for name, sub in schema[key].items()}
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            schema[key] = strict(schema[key])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            schema[key] = [strict(sub) for sub in schema[key]]
    preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in schema and "additionalProperties" not in schema and not preserve:
        schema["additionalProperties"] = False
    return schema


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def test_the_chart_declares_the_worker_s_topics_with_their_settings() -> None:
    docs = render(FULL)
    declared = {
        t["spec"]["topicName"]: (t["spec"]["partitions"], t["spec"].get("config", {}))
        for t in by_kind(docs, "KafkaTopic")
    }
    settings = Settings(
        app_id="rebound", topic_prefix="shop1.", partitions=12, replication_factor=3
    )
    wanted = {s.name: (s.partitions, s.config) for s in topic_specs(settings)}
    assert declared == wanted


def owned_topics(app_id: str = "rebound", prefix: str = "") -> set[str]:
    """What Rebound owns: every topic of ``streams.topology`` but the retailer's events."""
    settings = Settings(app_id=app_id, topic_prefix=prefix)
    events = set(settings.event_topics.values())
    return {s.name for s in topic_specs(settings)} - events


TOPIC_TOGGLES = [
    {},
    {"strimzi.topics.eventTopics": "true"},
    {"appId": "rebound-eu"},
    {"topicPrefix": "shop2."},
    {"appId": "x", "topicPrefix": "y.", "strimzi.topics.eventTopics": "true"},
    {"strimzi.apiVersion": "kafka.strimzi.io/v1beta2"},
    {"strimzi.user.enabled": "false"},
    {"kafka.replicationFactor": "1"},
]


@pytest.mark.parametrize("values", [(), (FULL,)], ids=["defaults", "full"])
@pytest.mark.parametrize("toggles", TOPIC_TOGGLES, ids=lambda t: ",".join(t) or "as-is")
def test_every_topic_rebound_owns_is_kept_whatever_the_values(
    values: tuple[Path, ...], toggles: dict[str, str]
) -> None:
    """Strimzi deletes a Kafka topic when its KafkaTopic goes: an uninstall, topics turned off
    or a renamed topic must leave the changelog (every customer's state) where it is."""
    sets = {"strimzi.topics.enabled": "true", **toggles}
    topics = by_kind(render(*values, **sets), "KafkaTopic")
    prefix = sets.get("topicPrefix", "shop1." if values else "")
    owned = owned_topics(sets.get("appId", "rebound"), prefix)
    names = {t["spec"]["topicName"] for t in topics}
    assert owned <= names
    for topic in topics:
        kept = topic["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep"
        assert kept == (topic["spec"]["topicName"] in owned), topic["spec"]["topicName"]
    events = names - owned
    assert bool(events) == (sets.get("strimzi.topics.eventTopics") == "true" or bool(values))


def test_event_topics_are_not_declared_by_default() -> None:
    topics = by_kind(render(**{"strimzi.topics.enabled": "true"}), "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics} == owned_topics()
    assert all(t["spec"]["config"]["min.insync.replicas"] == "2" for t in topics)


def test_the_worker_refuses_to_create_topics_and_its_probes_fit_a_stream_worker() -> None:
    [statefulset] = by_kind(render(), "StatefulSet")
    pod = statefulset["spec"]["template"]["spec"]
    [worker] = pod["containers"]
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert env["REBOUND_CREATE_TOPICS"] == "false"
    assert env["REBOUND_LOG_FORMAT"] == "json"
    assert worker["livenessProbe"]["httpGet"]["path"] == "/live"
    assert worker["readinessProbe"]["httpGet"]["path"] == "/ready"
    startup = worker["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600, "a table recovery"
    assert pod["terminationGracePeriodSeconds"] > 20, "longer than the worker's bounded stop"
    assert pod["securityContext"]["runAsNonRoot"] is True
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"


def worker_env(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    [statefulset] = by_kind(docs, "StatefulSet")
    [worker] = statefulset["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in worker["env"]}


def test_credentials_come_from_secrets_never_from_values() -> None:
    docs = render(FULL)
    [statefulset] = by_kind(docs, "StatefulSet")
    [worker] = statefulset["spec"]["template"]["spec"]["containers"]
    env = worker_env(docs)
    assert env["REBOUND_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "rb-rebound"
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "redis"
    # Kubernetes expands $(REDIS_PASSWORD) from the variable defined before it.
    names = [e["name"] for e in worker["env"]]
    assert names.index("REDIS_PASSWORD") < names.index("REBOUND_REDIS_URL")
    assert (
        env["REBOUND_REDIS_URL"]["value"]
        == "rediss://rebound:$(REDIS_PASSWORD)@redis-master:6379/0"
    )


VALUES_FILES = [(), (FULL,), *[(p,) for p in sorted((CHART / "ci").glob("*.yaml")) if p != FULL]]


@pytest.mark.parametrize("values", VALUES_FILES, ids=lambda v: v[0].name if v else "defaults")
@pytest.mark.parametrize(
    "user",
    [
        {},
        {"strimzi.user.enabled": "true"},
        {"strimzi.user.enabled": "true", "strimzi.user.name": "crm-rebound"},
    ],
    ids=["as-is", "user", "named-user"],
)
def test_the_worker_logs_in_as_the_kafka_user_the_chart_makes(
    values: tuple[Path, ...], user: dict[str, str]
) -> None:
    """SCRAM: the user name and the password's Secret are the KafkaUser's; mutual TLS: the
    client certificate is the Secret Strimzi writes for it."""
    docs = render(*values, **user)
    users = by_kind(docs, "KafkaUser")
    if not users:
        return
    [kafka_user] = users
    name = kafka_user["metadata"]["name"]
    env = worker_env(docs)
    [statefulset] = by_kind(docs, "StatefulSet")
    volumes = {v["name"]: v for v in statefulset["spec"]["template"]["spec"]["volumes"]}
    if kafka_user["spec"]["authentication"]["type"] == "scram-sha-512":
        assert env["REBOUND_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        assert env["REBOUND_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
        assert env["REBOUND_SASL_USERNAME"]["value"] == name
        assert env["REBOUND_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": name,
            "key": "password",
        }
        assert "kafka-user" not in volumes
    else:
        assert env["REBOUND_SECURITY_PROTOCOL"]["value"] == "SSL"
        assert volumes["kafka-user"]["secret"]["secretName"] == name
        assert env["REBOUND_SSL_CERTFILE"]["value"].endswith("/user.crt")
        assert "REBOUND_SASL_USERNAME" not in env


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (
            {"strimzi.user.enabled": "true", "kafka.clientCertSecret.name": "rebound"},
            "kafka.clientCertSecret.name=rebound, but the KafkaUser this chart makes is rb-rebound",
        ),
        (
            {"kafka.sasl.username": "rebound"},
            "kafka.sasl.username=rebound, but the KafkaUser this chart makes is rb-rebound",
        ),
        (
            {"kafka.sasl.passwordSecret.name": "other"},
            "kafka.sasl.passwordSecret.name=other, but Strimzi writes the password",
        ),
        (
            {"kafka.securityProtocol": "SSL"},
            "strimzi.user.authentication=scram-sha-512 needs kafka.securityProtocol=SASL_SSL",
        ),
    ],
)
def test_credentials_naming_another_user_are_refused(sets: dict[str, str], message: str) -> None:
    base = () if "kafka.clientCertSecret.name" in sets else (FULL,)
    command = [helm(), "template", "rb", str(CHART)]
    for path in base:
        command += ["-f", str(path)]
    for key, value in sets.items():
        command += ["--set", f"{key}={value}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode != 0
    assert message in done.stderr


def test_the_kafka_user_may_read_events_write_commands_and_own_its_internal_topics() -> None:
    [user] = by_kind(render(FULL), "KafkaUser")
    acls = {
        (a["resource"]["type"], a["resource"].get("name"), a["resource"].get("patternType")): set(
            a["operations"]
        )
        for a in user["spec"]["authorization"]["acls"]
    }
    assert acls[("topic", "shop1.orders", "literal")] == {"Read", "Describe"}
    assert acls[("topic", "shop1.consents", "literal")] == {"Read", "Describe"}
    assert "Write" in acls[("topic", "shop1.rebound.commands.sms", "literal")]
    assert "Write" in acls[("topic", "shop1.rebound.dlq", "literal")]
    assert {"Read", "Write"} <= acls[("topic", "rebound-", "prefix")]
    assert "Read" in acls[("group", "rebound", "literal")]
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"


def test_more_replicas_than_partitions_is_warned_about() -> None:
    done = subprocess.run(
        [helm(), "install", "rb", str(CHART), "--dry-run=client", "-f", str(FULL)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING: 16 replicas for 12 partitions" in done.stdout


def test_values_that_cannot_work_are_refused_by_the_schema() -> None:
    done = subprocess.run(
        [helm(), "template", "rb", str(CHART), "--set", "kafka.securityProtocol=TLS"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    assert "securityProtocol" in done.stderr


ALERTS_TEST = Path(__file__).resolve().parent / "alerts_test.yaml"


def test_the_alert_rules_are_valid_and_each_is_tested_firing_and_not(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed: `make system` installs Debian's prometheus")
    [rule] = by_kind(render(FULL), "PrometheusRule")
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    for alert in alerts:
        annotations = alert["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(annotations), alert["alert"]
        anchor = annotations["runbook_url"].split("#")[1]
        assert f'<a id="{anchor}"></a>' in RUNBOOKS.read_text(), f"{anchor} has no runbook"
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"]))
    shutil.copy(ALERTS_TEST, tmp_path / "alerts_test.yaml")
    for command in (["check", "rules", "rules.yaml"], ["test", "rules", "alerts_test.yaml"]):
        done = subprocess.run(
            [promtool, *command],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    tests = yaml.safe_load(ALERTS_TEST.read_text())["tests"]
    cases = [case for test in tests for case in test["alert_rule_test"]]
    for alert in alerts:
        mine = [c for c in cases if c["alertname"] == alert["alert"]]
        assert any(c["exp_alerts"] for c in mine), f"{alert['alert']} is never shown firing"
        assert any(not c["exp_alerts"] for c in mine), f"{alert['alert']} never shown quiet"


RUNBOOKS = Path(__file__).resolve().parents[2] / "docs" / "runbooks.md"


def pod_spec(docs: list[dict[str, Any]]) -> dict[str, Any]:
    [statefulset] = by_kind(docs, "StatefulSet")
    spec: dict[str, Any] = statefulset["spec"]["template"]["spec"]
    return spec


def test_the_pod_runs_under_its_own_account_without_a_token() -> None:
    docs = render()
    [account] = by_kind(docs, "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    pod = pod_spec(docs)
    assert pod["serviceAccountName"] == account["metadata"]["name"] == "rb-rebound"
    assert pod["automountServiceAccountToken"] is False
    own = pod_spec(render(**{"serviceAccount.create": "false", "serviceAccount.name": "crm"}))
    assert own["serviceAccountName"] == "crm"


def test_workers_are_kept_apart_by_default_and_it_is_settable() -> None:
    soft = pod_spec(render())["affinity"]["podAntiAffinity"]
    [preferred] = soft["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    hard = pod_spec(render(podAntiAffinity="hard"))["affinity"]["podAntiAffinity"]
    assert "requiredDuringSchedulingIgnoredDuringExecution" in hard
    assert "affinity" not in pod_spec(render(podAntiAffinity="none"))
    [spread] = pod_spec(render())["topologySpreadConstraints"]
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"


def test_security_contexts_are_on_by_default_and_settable_for_openshift() -> None:
    pod = pod_spec(render())
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    [worker] = pod["containers"]
    assert worker["securityContext"]["readOnlyRootFilesystem"] is True
    assert worker["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    openshift = pod_spec(
        render(
            **{
                "podSecurityContext.runAsUser": "null",
                "podSecurityContext.runAsGroup": "null",
                "podSecurityContext.fsGroup": "null",
            }
        )
    )["securityContext"]
    assert openshift == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def test_volumes_are_retained_on_delete_and_scale_in_by_default() -> None:
    [statefulset] = by_kind(render(), "StatefulSet")
    policy = statefulset["spec"]["persistentVolumeClaimRetentionPolicy"]
    assert policy == {"whenDeleted": "Retain", "whenScaled": "Retain"}
