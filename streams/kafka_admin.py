"""The kafka-python admin client, configured from the settings, with a clear error when the
broker does not answer."""

from __future__ import annotations

import ssl
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from streams.exceptions import ConfigurationError
from streams.settings import Settings


def security_options(settings: Settings) -> dict[str, Any]:
    """kafka-python's security options for ``settings`` (empty for PLAINTEXT)."""
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl_context(settings)
    if settings.security_protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password,
        )
    return options


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """The TLS context of every Kafka client Rebound opens (Faust's, the admin client, the
    scenario log, the demo): the brokers' CA, and the client certificate for mutual TLS."""
    try:
        context = ssl.create_default_context(cafile=settings.ssl_cafile or None)
    except ssl.SSLError as exc:
        raise ConfigurationError(
            f"REBOUND_SSL_CAFILE={settings.ssl_cafile} is not a CA bundle (PEM): {exc}"
        ) from None
    if settings.ssl_certfile:
        try:
            context.load_cert_chain(
                settings.ssl_certfile,
                settings.ssl_keyfile or None,
                settings.ssl_key_password or None,
            )
        except ssl.SSLError as exc:
            raise ConfigurationError(
                f"REBOUND_SSL_CERTFILE={settings.ssl_certfile} and REBOUND_SSL_KEYFILE="
                f"{settings.ssl_keyfile} are not a certificate and its key (PEM; "
                f"REBOUND_SSL_KEY_PASSWORD if the key has one): {exc.reason or exc}"
            ) from None
    return context


def admin_client(settings: Settings, timeout_ms: int = 10_000) -> KafkaAdminClient:
    """An admin client, or a ``ConfigurationError`` naming the address when none answers."""
    try:
        return KafkaAdminClient(
            bootstrap_servers=settings.bootstrap_servers,
            client_id=f"{settings.app_id}-admin",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            **security_options(settings),
        )
    except (KafkaTimeoutError, KafkaConnectionError):
        raise ConfigurationError(unreachable_broker_message(settings)) from None
    except KafkaError as exc:
        raise ConfigurationError(
            f"Kafka at {','.join(settings.bootstrap_servers)} refused the connection: {exc}. "
            "Check REBOUND_BROKER_URL and the REBOUND_SECURITY_PROTOCOL / SASL / SSL settings."
        ) from exc


def kafka_client(kind: type[Any], settings: Settings, name: str, **options: Any) -> Any:
    """A kafka-python client (``KafkaConsumer``, ``KafkaProducer``) of ``settings``' brokers
    and security, its client id ``<app id>-<name>``; a ``ConfigurationError`` naming the
    address when no broker answers."""
    try:
        return kind(
            bootstrap_servers=settings.bootstrap_servers,
            client_id=f"{settings.app_id}-{name}",
            **security_options(settings),
            **options,
        )
    except KafkaError:
        raise ConfigurationError(unreachable_broker_message(settings)) from None


def unreachable_broker_message(settings: Settings) -> str:
    return (
        f"cannot reach Kafka at {','.join(settings.bootstrap_servers)} (REBOUND_BROKER_URL). "
        "Is the broker running and reachable from here? Set REBOUND_BROKER_URL to your "
        "brokers (kafka://host:9092). `make run` starts a whole local stack, a worker "
        "included, on ports of its own; its first lines give the broker's address."
    )
