"""The kafka-python admin client, configured from the settings, with a clear error when the
broker does not answer or refuses the credentials: the error names the setting to fix."""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterator
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
    """An admin client, or a ``ConfigurationError`` naming the address when none answers,
    or the setting to fix when the broker refuses the connection's security."""
    try:
        with _connection_failures() as failures:
            return KafkaAdminClient(
                bootstrap_servers=settings.bootstrap_servers,
                client_id=f"{settings.app_id}-admin",
                request_timeout_ms=timeout_ms,
                bootstrap_timeout_ms=timeout_ms,
                **security_options(settings),
            )
    except (KafkaTimeoutError, KafkaConnectionError):
        refused = refusal_message(settings, failures)
        raise ConfigurationError(refused or unreachable_broker_message(settings)) from None
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


class _Failures(logging.Handler):
    """kafka-python's reasons for failed connections: it retries until its timeout and then
    says only that it could not bootstrap; the reasons are in its log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.reasons) < 100:
            self.reasons.append(record.getMessage())


@contextlib.contextmanager
def _connection_failures() -> Iterator[list[str]]:
    handler = _Failures()
    logger = logging.getLogger("kafka")
    level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:  # quietened: let the reasons through
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler.reasons
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


_CLIENT_CERTIFICATE_REFUSED = (
    "ALERT_CERTIFICATE_UNKNOWN",
    "ALERT_UNKNOWN_CA",
    "ALERT_BAD_CERTIFICATE",
    "ALERT_CERTIFICATE_REQUIRED",
    "CERTIFICATE_REQUIRED",
)


def refusal_message(settings: Settings, reasons: list[str]) -> str | None:
    """What the broker refused, and which setting to fix; None when nothing was refused (the
    broker did not answer)."""
    where = ",".join(settings.bootstrap_servers)
    text = "\n".join(reasons)
    sasl = settings.security_protocol.startswith("SASL")
    # A failed SASL authentication is often seen as the broker closing the connection (the
    # error response and the close arrive together): both say the credentials are refused.
    if "SaslAuthenticationFailedError" in text or (sasl and "socket disconnected" in text):
        return (
            f"Kafka at {where} refused the SASL credentials (or closed the connection while "
            f"authenticating): check REBOUND_SASL_USERNAME="
            f"{settings.sasl_username} and REBOUND_SASL_PASSWORD (mechanism "
            f"REBOUND_SASL_MECHANISM={settings.sasl_mechanism}; with Strimzi, the KafkaUser's "
            "Secret, key password)"
        )
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip()
        trusted = (
            f"REBOUND_SSL_CAFILE={settings.ssl_cafile}"
            if settings.ssl_cafile
            else "the system's CAs (REBOUND_SSL_CAFILE is not set)"
        )
        return (
            f"the TLS certificate of Kafka at {where} is not trusted by {trusted} ({detail}): "
            "set REBOUND_SSL_CAFILE to the cluster's CA (with Strimzi, the Secret "
            "<cluster>-cluster-ca-cert, key ca.crt)"
        )
    if any(alert in text for alert in _CLIENT_CERTIFICATE_REFUSED):
        if not settings.ssl_certfile:
            return (
                f"Kafka at {where} asks for a client certificate (mutual TLS): set "
                "REBOUND_SSL_CERTFILE and REBOUND_SSL_KEYFILE (with Strimzi, the KafkaUser's "
                "Secret, keys user.crt and user.key)"
            )
        return (
            f"Kafka at {where} refused the client certificate REBOUND_SSL_CERTFILE="
            f"{settings.ssl_certfile}: it is not signed by a CA the broker trusts (with "
            "Strimzi, use the KafkaUser's Secret, keys user.crt and user.key)"
        )
    return None


def unreachable_broker_message(settings: Settings) -> str:
    return (
        f"cannot reach Kafka at {','.join(settings.bootstrap_servers)} (REBOUND_BROKER_URL). "
        "Is the broker running and reachable from here? Set REBOUND_BROKER_URL to your "
        "brokers (kafka://host:9092). `make run` starts a whole local stack, a worker "
        "included, on ports of its own; its first lines give the broker's address."
    )
