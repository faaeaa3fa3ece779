"""One frozen settings object, read from environment variables prefixed ``REBOUND_``.

Every field documents itself; ``rebound settings`` prints them all with their values, and the
README's configuration table is the same list.
"""

from __future__ import annotations

import difflib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from streams.exceptions import ConfigurationError


def scaled_time(origin: float, scale: float) -> float:
    """A clock that runs ``scale`` times faster than the real one from ``origin`` on."""
    return origin + (time.time() - origin) * scale


log = logging.getLogger(__name__)

ENV_PREFIX = "REBOUND_"
NOT_SETTINGS = ("REBOUND_COMPILE", "REBOUND_CACHE_DIR", "REBOUND_TEST_", "REBOUND_BENCH_")
"""``REBOUND_`` variables that are not worker settings: the build's, the local stack's, the
tests' and the benchmarks' (a trailing ``_``: every variable of that stem)."""
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LOG_FORMATS = ("text", "json")
SECRETS = ("sasl_password", "ssl_key_password")
"""Settings never printed; passwords inside URLs (``redis_url``, ``schema_registry_url``)
are masked too."""
CHANNELS = ("email", "sms", "push")
EVENT_KINDS = ("order", "delivery", "open", "click", "consent")


def _setting(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    """Everything the worker, the topic command and the demo read from the environment."""

    app_id: str = _setting(
        "rebound", "Faust application id: consumer group and internal topic prefix."
    )
    broker_url: str = _setting(
        "kafka://127.0.0.1:9092", "Kafka bootstrap servers, comma separated."
    )
    security_protocol: str = _setting(
        "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (Kafka's names)."
    )
    sasl_mechanism: str = _setting("PLAIN", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SASL only).")
    sasl_username: str = _setting("", "SASL user name.")
    sasl_password: str = _setting("", "SASL password.")
    ssl_cafile: str = _setting("", "CA bundle that signed the brokers' certificates (SSL only).")
    ssl_certfile: str = _setting(
        "",
        "Client certificate (PEM) for mutual TLS, e.g. Strimzi's user.crt; with SSL or SASL_SSL.",
    )
    ssl_keyfile: str = _setting(
        "", "The client certificate's private key (PEM), e.g. Strimzi's user.key."
    )
    ssl_key_password: str = _setting("", "Password of the private key, if it has one.")
    schema_registry_url: str = _setting(
        "", "Confluent-compatible schema registry; empty means plain Avro with a schema header."
    )
    redis_url: str = _setting("redis://127.0.0.1:6379/0", "Redis: catalog, profiles, ledger.")
    topic_prefix: str = _setting("", "Prefix put before every topic name below.")
    topic_orders: str = _setting("orders", "Order events (Avro, keyed by customer_id).")
    topic_deliveries: str = _setting("deliveries", "Delivery events.")
    topic_opens: str = _setting("opens", "Message-open events, published by channel services.")
    topic_clicks: str = _setting("clicks", "Click events, published by channel services.")
    topic_consents: str = _setting(
        "consents",
        "Consent events (unsubscribe links, preference centres), published by channel "
        "services or the CRM.",
    )
    topic_commands: str = _setting(
        "rebound.commands", "Command topics stem: <stem>.email, <stem>.sms, <stem>.push."
    )
    topic_dead_letter: str = _setting("rebound.dlq", "Records that could not be handled.")
    partitions: int = _setting(8, "Partitions of every topic Rebound reads or owns.")
    create_topics: bool = _setting(
        True,
        "Create missing topics at start. false in production, where topics are resources "
        "(e.g. Strimzi KafkaTopic): the worker then refuses to start, listing the missing ones.",
    )
    replication_factor: int = _setting(1, "Replication factor of the topics Rebound creates.")
    store: str = _setting("rocksdb://", "Faust table store: rocksdb:// or memory://.")
    data_dir: str = _setting("./var/rebound", "Where the worker keeps its RocksDB files.")
    web_host: str = _setting("0.0.0.0", "Address of the web server (/metrics, /health).")  # noqa: S104
    web_port: int = _setting(6066, "Port of the web server.")
    log_level: str = _setting("info", "Worker log level: debug, info, warning or error.")
    log_format: str = _setting(
        "text", "text, or json: one JSON object per line (for log collectors; no banner)."
    )
    event_loop: str = _setting("uvloop", "The worker's asyncio event loop: uvloop or asyncio.")
    scenarios_dir: str = _setting("scenarios", "Folder of the scenario files (*.yaml).")
    session_timeout_s: float = _setting(
        30.0, "Kafka consumer session timeout: how soon a dead worker's partitions move."
    )
    standby_replicas: int = _setting(
        1,
        "Standby copies of each table partition, kept by other workers so that a takeover "
        "applies only the last changelog records; 0 for none (a takeover restores the "
        "partition from its changelog).",
    )
    timer_tick_s: float = _setting(0.1, "How often due timers are looked for, in seconds.")
    rocksdb_write_buffer_mib: int = _setting(
        16,
        "RocksDB memtable size per table partition, in MiB (up to two per partition); "
        "Faust's default, 64 MiB times three, makes memory grow with the partitions.",
    )
    rocksdb_block_cache_mib: int = _setting(
        32, "RocksDB read cache per table partition, in MiB (Faust's default is 2 GiB)."
    )
    producer_batch_kib: int = _setting(
        512,
        "Largest record batch the producer sends, in KiB (aiokafka's default is 16): a "
        "partition's next batch waits until the previous one is sent, so small batches "
        "queue a flush behind round trips. At most the broker's message.max.bytes.",
    )
    batch_max_records: int = _setting(
        5000,
        "Most records the intake handles as one batch (one fetch). A batch has fixed costs "
        "(Redis round trips, a produce request per partition, the consumer thread's turn): "
        "5,000 gave a quarter more throughput than 1,000 under load; a full batch takes "
        "about 0.2 s here, timers wait meanwhile. At low rates batches are small anyway.",
    )
    max_future_s: float = _setting(
        300.0,
        "How far ahead of the worker's clock an event's occurred_at may be; one further in "
        "the future goes to the dead-letter topic (stage validate).",
    )
    ledger_ttl_s: int = _setting(
        30 * 86400, "How long the Redis ledger remembers a published command id."
    )
    profile_cache_s: float = _setting(
        30.0,
        "How long the worker keeps a customer profile read from Redis before reading it "
        "again: a consent withdrawn in Redis holds at most this much later.",
    )
    time_scale: float = _setting(
        1.0,
        "Simulated seconds per real second of the worker's clock, for demos only (`make run` "
        "uses 17280: a day in 5 s); production runs at 1.",
    )
    time_origin: float = _setting(
        0.0,
        "With a time scale: the moment (epoch seconds) from which the clock runs faster; "
        "whatever produces events must share it (`make run` sets both).",
    )

    def clock(self) -> Callable[[], float]:
        """The worker's clock: the real one, or the demo's faster one (``time_scale``)."""
        if self.time_scale == 1.0:
            return time.time
        return partial(scaled_time, self.time_origin, self.time_scale)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every field from ``REBOUND_<FIELD>``; absent variables keep their default."""
        environ = os.environ if environ is None else environ
        _warn_unknown(environ, {ENV_PREFIX + f.name.upper() for f in fields(cls)})
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, raw, type(f.default))
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Reject values that cannot work, naming the variable at fault and what it takes,
        before anything connects."""
        for name, value, allowed in (
            ("security_protocol", self.security_protocol, SECURITY_PROTOCOLS),
            ("sasl_mechanism", self.sasl_mechanism, SASL_MECHANISMS),
            ("log_level", self.log_level.lower(), LOG_LEVELS),
            ("log_format", self.log_format, LOG_FORMATS),
        ):
            if value not in allowed:
                raise ConfigurationError(
                    f"{ENV_PREFIX}{name.upper()}={value!r} is not one of {', '.join(allowed)}"
                )
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path and not os.path.isfile(path):
                raise ConfigurationError(f"{ENV_PREFIX}{name.upper()}={path}: no such file")
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ConfigurationError(
                f"{ENV_PREFIX}SSL_KEYFILE is set without {ENV_PREFIX}SSL_CERTFILE: set both"
            )
        if self.event_loop not in ("uvloop", "asyncio"):
            raise ConfigurationError(f"{ENV_PREFIX}EVENT_LOOP must be uvloop or asyncio")
        if self.timer_tick_s <= 0:
            raise ConfigurationError(f"{ENV_PREFIX}TIMER_TICK_S must be positive")
        if self.rocksdb_write_buffer_mib < 1 or self.rocksdb_block_cache_mib < 1:
            raise ConfigurationError(
                f"{ENV_PREFIX}ROCKSDB_WRITE_BUFFER_MIB and {ENV_PREFIX}ROCKSDB_BLOCK_CACHE_MIB "
                "must be at least 1"
            )
        if not 16 <= self.producer_batch_kib <= 1023:
            raise ConfigurationError(f"{ENV_PREFIX}PRODUCER_BATCH_KIB must be from 16 to 1023")
        if self.time_scale <= 0:
            raise ConfigurationError(f"{ENV_PREFIX}TIME_SCALE must be positive")
        if self.max_future_s < 0:
            raise ConfigurationError(f"{ENV_PREFIX}MAX_FUTURE_S must be zero or more")
        if self.profile_cache_s < 0:
            raise ConfigurationError(f"{ENV_PREFIX}PROFILE_CACHE_S must be zero or more")
        if self.batch_max_records < 1:
            raise ConfigurationError(f"{ENV_PREFIX}BATCH_MAX_RECORDS must be at least 1")
        if self.standby_replicas < 0:
            raise ConfigurationError(f"{ENV_PREFIX}STANDBY_REPLICAS must be zero or more")
        if self.partitions < 1:
            raise ConfigurationError(f"{ENV_PREFIX}PARTITIONS must be at least 1")
        if self.store.split("://")[0] not in ("rocksdb", "memory"):
            raise ConfigurationError(f"{ENV_PREFIX}STORE must be rocksdb:// or memory://")
        if urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigurationError(
                f"{ENV_PREFIX}REDIS_URL={self.redis_url!r} is not a redis:// URL"
            )

    def topic(self, name: str) -> str:
        """The full name of a topic, prefix included."""
        return self.topic_prefix + name

    @property
    def event_topics(self) -> dict[str, str]:
        """Event kind -> full topic name."""
        names = (
            self.topic_orders,
            self.topic_deliveries,
            self.topic_opens,
            self.topic_clicks,
            self.topic_consents,
        )
        return {kind: self.topic(name) for kind, name in zip(EVENT_KINDS, names, strict=True)}

    @property
    def command_topics(self) -> dict[str, str]:
        """Channel -> full command topic name."""
        return {channel: self.topic(f"{self.topic_commands}.{channel}") for channel in CHANNELS}

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(self.topic_dead_letter)

    @property
    def bootstrap_servers(self) -> list[str]:
        """``host:port`` pairs of ``broker_url``, without the ``kafka://`` scheme."""
        servers = []
        for part in self.broker_url.split(","):
            part = part.strip()
            servers.append(part.split("://", 1)[1] if "://" in part else part)
        return servers

    def to_env(self) -> dict[str, str]:
        """The ``REBOUND_*`` variables that ``from_env`` reads back into these settings."""
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, value, doc) for every setting; passwords are masked, in URLs too."""
        rows = []
        for f in fields(self):
            value = str(getattr(self, f.name))
            if f.name in SECRETS and value:
                value = MASK
            elif "://" in value:
                value = mask_url(value)
            rows.append((ENV_PREFIX + f.name.upper(), value, f.metadata["doc"]))
        return rows


MASK = "****"


def mask_url(url: str) -> str:
    """``url`` with the password of its user part masked (``redis://:****@host:6379/0``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:{MASK}@{host}").geturl()


def _warn_unknown(environ: Mapping[str, str], known: set[str]) -> None:
    """A ``REBOUND_`` variable that no setting reads is a typo more often than not."""
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable in known:
            continue
        if any(variable.startswith(other) for other in NOT_SETTINGS):
            continue
        close = difflib.get_close_matches(variable, sorted(known), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        log.warning("%s is not a Rebound setting and is ignored%s", variable, hint)


def _coerce(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        text = raw.strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigurationError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not true or false")
        return text in ("true", "1", "yes")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise ConfigurationError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not {what}") from None
    return raw
