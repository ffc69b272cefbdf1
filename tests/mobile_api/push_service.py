"""A local stand-in for a browser vendor's push service (RFC 8030), for the Web Push tests.

An HTTPS server on 127.0.0.1 in a thread, with a certificate made here (a throw-away CA and
a leaf for 127.0.0.1, written to PEM files the site is pointed at through
``WEB_PUSH_CA_BUNDLE``: the site's certificate checking stays on). It checks what a real push
service checks:

- POST, ``Content-Encoding: aes128gcm``, a ``TTL`` header;
- ``Authorization: vapid t=<JWT>, k=<public key>`` (RFC 8292): the JWT is ES256, verifies
  with ``k``, ``k`` is the site's configured key, ``aud`` is the endpoint's origin, ``exp``
  is in the future and within 24 hours, ``sub`` is a mailto: or https: URL;
- the body decrypts (RFC 8291, ``http_ece``) with the subscription's private key and
  authentication secret, which only this stand-in and the "browser" know.

It records what it received and answers 201. Paths under ``/gone/`` answer 410 (after the
checks); paths in ``busy`` answer 429. A request that fails a check answers 400 and is
recorded with its problems, so tests assert there were none."""

from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import json
import os
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID


def b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def vapid_pair() -> tuple[str, str]:
    """A VAPID pair made here with ``cryptography`` (not by the code under test)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64e(key.private_numbers().private_value.to_bytes(32, "big")), b64e(point(key))


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, leaf certificate, leaf key) PEM files for 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "push stand-in test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = (
        directory / "push-ca.pem",
        directory / "push-cert.pem",
        directory / "push-key.pem",
    )
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    status: int
    problems: list[str] = field(default_factory=list)
    raw: bytes = b""  # the decrypted body
    payload: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class BrowserKeys:
    """What a browser keeps for one subscription: its private key and auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes


class PushServiceStandIn:
    def __init__(self, directory: Path) -> None:
        self.ca_path, cert_path, key_path = _certificates(directory)
        self.vapid_public_key = ""
        self.ttl: int | None = None
        self.received: list[Received] = []
        self.busy: set[str] = set()
        self.browsers: dict[str, BrowserKeys] = {}
        self._lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                stand_in._handle(self)

            def do_GET(self) -> None:
                stand_in._refuse(self)

            def do_PUT(self) -> None:
                stand_in._refuse(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.origin = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- The "browser" side

    def subscription(self, name: str, *, gone: bool = False) -> dict[str, Any]:
        """A new subscription as a browser's PushSubscription.toJSON() gives it."""
        path = f"/{'gone' if gone else 'push'}/{name}-{b64e(os.urandom(9))}"
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self.browsers[path] = BrowserKeys(key, auth)
        return {
            "endpoint": self.origin + path,
            "expirationTime": None,
            "keys": {"p256dh": b64e(point(key)), "auth": b64e(auth)},
        }

    def payloads(self, endpoint: str) -> list[dict[str, Any]]:
        path = endpoint.removeprefix(self.origin)
        with self._lock:
            return [r.payload for r in self.received if r.path == path and r.status == 201]

    def problems(self) -> list[str]:
        with self._lock:
            return [f"{r.path}: {p}" for r in self.received for p in r.problems]

    # --- The service side

    def _refuse(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.received.append(
                Received(handler.command, handler.path, dict(handler.headers), 405, ["not POST"])
            )
        handler.send_response(405)
        handler.end_headers()

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        record = Received("POST", handler.path, dict(handler.headers), 201)
        problems = record.problems
        if handler.headers.get("Content-Encoding") != "aes128gcm":
            problems.append(f"Content-Encoding {handler.headers.get('Content-Encoding')!r}")
        ttl = handler.headers.get("TTL")
        if ttl is None or not ttl.isdigit() or (self.ttl is not None and int(ttl) != self.ttl):
            problems.append(f"TTL {ttl!r}, expected {self.ttl}")
        record.claims = self._check_vapid(handler.headers.get("Authorization") or "", problems)
        keys = self.browsers.get(handler.path)
        if keys is None:
            problems.append("no such subscription")
        else:
            try:
                record.raw = http_ece.decrypt(
                    body, private_key=keys.private_key, auth_secret=keys.auth, version="aes128gcm"
                )
                record.payload = json.loads(record.raw)
            except Exception as exc:
                problems.append(f"body does not decrypt: {exc!r}")
        if problems:
            record.status = 400
        elif handler.path.startswith("/gone/"):
            record.status = 410
        elif handler.path in self.busy:
            record.status = 429
        with self._lock:
            self.received.append(record)
        handler.send_response(record.status)
        if record.status == 201:
            handler.send_header("Location", f"{self.origin}/message/{len(self.received)}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _check_vapid(self, header: str, problems: list[str]) -> dict[str, Any]:
        match = re.fullmatch(r"vapid t=([A-Za-z0-9_.-]+),\s*k=([A-Za-z0-9_-]+)", header)
        if match is None:
            problems.append(f"Authorization is not VAPID: {header[:40]!r}")
            return {}
        token, k = match.groups()
        if k != self.vapid_public_key:
            problems.append("k is not the site's VAPID public key")
        try:
            head_b64, claims_b64, signature_b64 = token.split(".")
            head = json.loads(b64d(head_b64))
            claims: dict[str, Any] = json.loads(b64d(claims_b64))
            signature = b64d(signature_b64)
        except ValueError as exc:
            problems.append(f"malformed JWT: {exc}")
            return {}
        if head.get("alg") != "ES256":
            problems.append(f"JWT alg {head.get('alg')!r}")
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(k))
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            problems.append("JWT signature does not verify with k")
        if claims.get("aud") != self.origin:
            problems.append(f"aud {claims.get('aud')!r}, expected {self.origin}")
        exp = claims.get("exp")
        now = time.time()
        if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
            problems.append(f"exp {exp!r} not within 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            problems.append(f"sub {claims.get('sub')!r}")
        return claims
