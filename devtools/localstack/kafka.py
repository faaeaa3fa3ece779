"""A throwaway Apache Kafka broker in KRaft mode, from Maven Central's jars.

The jars are fetched once with Maven into ``<cache>/kafka-<version>/libs`` (the ``pom.xml``
beside this module), the storage is formatted in a fresh folder, and the broker runs as a
combined broker and controller on two free loopback ports.
"""

from __future__ import annotations

import base64
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from devtools.localstack.certificates import Certificates
from devtools.localstack.exceptions import LocalStackError
from devtools.localstack.process import ChildProcess, cache_dir, free_port, port_answers

KAFKA_VERSION = "4.1.1"
_HERE = Path(__file__).resolve().parent

_SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data_dir}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
"""


_REPLACED = ("listeners=", "advertised.listeners=", "listener.security.protocol.map=")


def kafka_libs(version: str = KAFKA_VERSION) -> Path:
    """The folder of the broker's jars, fetched with Maven the first time."""
    libs = cache_dir() / f"kafka-{version}" / "libs"
    done = libs / ".complete"
    if done.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalStackError(
            "Maven (mvn) is needed once to fetch the Kafka broker's jars from Maven Central: "
            "install it (apt-get install maven), or set REBOUND_BROKER_URL to a broker of your own"
        )
    libs.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(_HERE / "pom.xml"),
            f"-Dkafka.version={version}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LocalStackError(
            f"Maven could not fetch org.apache.kafka:kafka_2.13:{version} into {libs}:\n"
            f"{(result.stdout + result.stderr)[-2000:]}"
        )
    done.touch()
    return libs


@dataclass(frozen=True)
class KafkaSecurity:
    """Secured listeners beside the plaintext one: SASL_SSL with SCRAM-SHA-512 (``users``,
    created when the storage is formatted) and SSL requiring a client certificate signed by
    ``certificates.ca`` (mutual TLS)."""

    certificates: Certificates
    users: dict[str, str]
    """SCRAM-SHA-512 user name -> password."""


_SECURED_PROPERTIES = """listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port},\
SASL_SSL://127.0.0.1:{sasl_port},SSL://127.0.0.1:{ssl_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{sasl_port},\
SSL://127.0.0.1:{ssl_port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
ssl.truststore.type=PEM
ssl.truststore.location={truststore}
listener.name.ssl.ssl.client.auth=required
"""


class LocalKafka:
    """A single-node KRaft cluster in ``workdir`` on 127.0.0.1 (with secured listeners too,
    given ``security``)."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        heap_mib: int = 768,
        security: KafkaSecurity | None = None,
        advertised_port: int | None = None,
    ) -> None:
        """``advertised_port``: the port clients are told to use (a proxy in front of the
        broker, as the fault suite puts one); by default the broker's own."""
        self.workdir = workdir
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port
        self.controller_port = free_port()
        self.heap_mib = heap_mib
        self.security = security
        self.sasl_port = free_port() if security else 0
        self.ssl_port = free_port() if security else 0
        self._process = ChildProcess("kafka broker", workdir / "broker.log")

    @property
    def sasl_ssl_bootstrap(self) -> str:
        """The SASL_SSL (SCRAM-SHA-512) listener's address."""
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def ssl_bootstrap(self) -> str:
        """The mutual TLS listener's address."""
        return f"127.0.0.1:{self.ssl_port}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def advertised_bootstrap(self) -> str:
        """Where clients should connect: the broker, or the proxy in front of it."""
        return f"127.0.0.1:{self.advertised_port}"

    def start(self, timeout_s: float = 90.0) -> LocalKafka:
        """Format a fresh storage and start the broker on it."""
        java = self._java()
        config = self._write_config()
        self._format(java, f"{kafka_libs()}/*", config)
        return self._spawn(java, config, timeout_s)

    def restart(self, timeout_s: float = 90.0) -> LocalKafka:
        """Start the broker again on its data and ports (after ``kill``, a crash)."""
        return self._spawn(self._java(), self.workdir / "server.properties", timeout_s)

    def kill(self) -> None:
        """SIGKILL the broker: a crash, its data left as it was."""
        self._process.signal(signal.SIGKILL)

    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise LocalStackError("Java 17 or later is needed to run the local Kafka broker")
        return java

    def _spawn(self, java: str, config: Path, timeout_s: float) -> LocalKafka:
        classpath = f"{kafka_libs()}/*"
        self._process.spawn(
            [
                java,
                f"-Xms{self.heap_mib // 2}m",
                f"-Xmx{self.heap_mib}m",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={_HERE / 'log4j2.properties'}",
                "-cp",
                classpath,
                "kafka.Kafka",
                str(config),
            ]
        )
        self._process.wait_until(self._answers, timeout_s, self.bootstrap)
        return self

    def _write_config(self) -> Path:
        data_dir = self.workdir / "data"
        if data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True)
        config = self.workdir / "server.properties"
        text = _SERVER_PROPERTIES.format(
            port=self.port, controller_port=self.controller_port, data_dir=data_dir
        ).replace(
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.advertised_port}",
        )
        if self.security is not None:
            kept = [line for line in text.splitlines() if not line.startswith(_REPLACED)]
            secured = _SECURED_PROPERTIES.format(
                port=self.port,
                controller_port=self.controller_port,
                sasl_port=self.sasl_port,
                ssl_port=self.ssl_port,
                keystore=self.security.certificates.server_pem,
                truststore=self.security.certificates.ca,
            )
            text = "\n".join(kept) + "\n" + secured
        config.write_text(text)
        return config

    def _format(self, java: str, classpath: str, config: Path) -> None:
        result = subprocess.run(  # noqa: S603
            [
                java,
                "-cp",
                classpath,
                f"-Dlog4j2.configurationFile={_HERE / 'log4j2.properties'}",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                _cluster_id(),
                "-c",
                str(config),
                *self._scram_users(),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LocalStackError(
                f"formatting the Kafka storage failed:\n{result.stdout}{result.stderr}"
            )

    def _scram_users(self) -> list[str]:
        users = self.security.users if self.security is not None else {}
        return [
            argument
            for name, password in users.items()
            for argument in ("--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]")
        ]

    def _answers(self) -> bool:
        if not port_answers(self.port):
            return False
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
        except KafkaError:
            return False
        try:
            admin.describe_cluster()
        except KafkaError:
            return False
        finally:
            admin.close()
        return True

    def stop(self) -> None:
        self._process.stop()


def _cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding.

    Like Kafka's own ``Uuid.randomUuid``, never one that starts with "-": the storage tool
    would read it as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id
