"""The TLS context every Kafka client gets: the brokers' CA and, for mutual TLS (Strimzi's
``authentication: tls`` users), the client certificate and its key; wrong files are named."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from streams.edge.kafka.admin import refusal_message, ssl_context
from streams.exceptions import ConfigurationError
from streams.settings import Settings


def certificate(folder: Path, password: bytes | None = None) -> tuple[Path, Path]:
    """A self-signed client certificate and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rebound")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    cert_file, key_file = folder / "user.crt", folder / "user.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return cert_file, key_file


def test_a_client_certificate_and_its_key_are_loaded(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path)
    settings = Settings.from_env(
        {
            "REBOUND_SECURITY_PROTOCOL": "SSL",
            "REBOUND_SSL_CERTFILE": str(cert),
            "REBOUND_SSL_KEYFILE": str(key),
        }
    )
    context = ssl_context(settings)
    assert context.verify_mode == ssl.CERT_REQUIRED, "the brokers are still verified"


def test_an_encrypted_key_takes_its_password(tmp_path: Path) -> None:
    password = "k3y-pass"  # noqa: S105 (a test key's)
    cert, key = certificate(tmp_path, password=password.encode())
    files = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    ssl_context(Settings(**files, ssl_key_password=password))
    with pytest.raises(ConfigurationError, match=r"REBOUND_SSL_CERTFILE=.* REBOUND_SSL_KEYFILE"):
        ssl_context(Settings(**files, ssl_key_password=password[:-1]))


def test_a_key_that_is_not_the_certificate_s_is_refused_by_name(tmp_path: Path) -> None:
    cert, _ = certificate(tmp_path)
    (tmp_path / "other").mkdir()
    _, other_key = certificate(tmp_path / "other")
    with pytest.raises(ConfigurationError, match="are not a certificate and its key"):
        ssl_context(Settings(ssl_certfile=str(cert), ssl_keyfile=str(other_key)))


@pytest.mark.parametrize("variable", ["REBOUND_SSL_CERTFILE", "REBOUND_SSL_CAFILE"])
def test_a_missing_file_is_refused_before_connecting(variable: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=rf"{variable}=.*: no such file"):
        Settings.from_env({variable: str(tmp_path / "absent.pem")})


@pytest.mark.parametrize(
    ("reason", "changes", "named"),
    [
        (
            "[Error 58] SaslAuthenticationFailedError: Authentication failed",
            {"security_protocol": "SASL_SSL"},
            "REBOUND_SASL_PASSWORD",
        ),
        (
            "Handshake failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
            "unable to get local issuer certificate (_ssl.c:1006)",
            {"security_protocol": "SSL", "ssl_cafile": "/etc/ca.pem"},
            "REBOUND_SSL_CAFILE=/etc/ca.pem (unable to get local issuer certificate)",
        ),
        (
            "[SSL: SSLV3_ALERT_CERTIFICATE_UNKNOWN] sslv3 alert certificate unknown",
            {"security_protocol": "SSL", "ssl_certfile": "/etc/me.pem"},
            "refused the client certificate REBOUND_SSL_CERTFILE=/etc/me.pem",
        ),
        (
            "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required",
            {"security_protocol": "SSL"},
            "set REBOUND_SSL_CERTFILE and REBOUND_SSL_KEYFILE",
        ),
    ],
)
def test_a_refusal_names_the_setting_to_fix(
    reason: str, changes: dict[str, str], named: str
) -> None:
    settings = Settings(sasl_password="hunter2", **changes)  # type: ignore[arg-type]  # noqa: S106
    message = refusal_message(settings, ["Bootstrap connection failed: " + reason])
    assert message is not None
    assert named in message
    assert "hunter2" not in message


def test_no_refusal_when_the_broker_does_not_answer() -> None:
    reasons = ["Connection failed: [Errno 111] Connection refused"]
    assert refusal_message(Settings(), reasons) is None
