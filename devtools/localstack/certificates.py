"""Certificates made on the spot (Python's ``cryptography``) for a local stack with TLS: a
certificate authority, a server certificate for 127.0.0.1 (the Kafka broker's, Redis's), a
client certificate it signed (mutual TLS, as Strimzi's ``authentication: tls`` users have),
and a client certificate of another authority, which the servers must refuse."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class Certificates:
    """PEM files in one folder."""

    ca: Path
    """The authority the servers and the clients trust."""
    server_cert: Path
    server_key: Path
    server_pem: Path
    """The server's key and certificate in one file (Kafka's PEM keystore)."""
    client_cert: Path
    client_key: Path
    untrusted_cert: Path
    """A client certificate of another authority."""
    untrusted_key: Path
    untrusted_ca: Path


def make_certificates(folder: Path, days: int = 2) -> Certificates:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _authority("rebound test CA", days)
    rogue_key, rogue_cert = _authority("somebody else's CA", days)
    server_key, server_cert = _leaf("127.0.0.1", ca_key, ca_cert, days, server=True)
    client_key, client_cert = _leaf("rebound", ca_key, ca_cert, days, server=False)
    other_key, other_cert = _leaf("rebound", rogue_key, rogue_cert, days, server=False)
    files = Certificates(
        ca=_write(folder / "ca.pem", _cert_pem(ca_cert)),
        server_cert=_write(folder / "server-cert.pem", _cert_pem(server_cert)),
        server_key=_write(folder / "server-key.pem", _key_pem(server_key)),
        server_pem=_write(folder / "server.pem", _key_pem(server_key) + _cert_pem(server_cert)),
        client_cert=_write(folder / "client-cert.pem", _cert_pem(client_cert)),
        client_key=_write(folder / "client-key.pem", _key_pem(client_key)),
        untrusted_cert=_write(folder / "untrusted-cert.pem", _cert_pem(other_cert)),
        untrusted_key=_write(folder / "untrusted-key.pem", _key_pem(other_key)),
        untrusted_ca=_write(folder / "untrusted-ca.pem", _cert_pem(rogue_cert)),
    )
    return files


def _authority(name: str, days: int) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        _builder(subject, subject, key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(
    name: str,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    days: int,
    server: bool,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = _builder(subject, ca_cert.subject, key.public_key(), days).add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return key, builder.sign(ca_key, hashes.SHA256())


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, days: int
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path
