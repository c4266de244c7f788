"""The project's test CA and one leaf certificate covering every simulated vendor host.

Made once with `cryptography` into the state dir (ca.pem, leaf.pem, leaf.key) and reused, so
a tap that trusts <state_dir>/ca.pem (REQUESTS_CA_BUNDLE) keeps trusting the sandbox across
restarts. EC P-256 keys: fast to make, accepted by OpenSSL/urllib3. This CA exists only on this
machine for tests; never install it system-wide.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import vendors

# Every vendor's real host names (a leading "." is every subdomain: a wildcard name), and localhost.
LEAF_DNS_NAMES = tuple(f"*{host}" if host.startswith(".") else host
                       for package in vendors.discover().values() for host in package.HOSTS) + ("localhost",)
LEAF_IPS = ("127.0.0.1",)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tributary Sandbox"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _names_of(leaf_file: Path) -> set[str]:
    try:
        leaf = x509.load_pem_x509_certificate(leaf_file.read_bytes())
        return set(leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                   .get_values_for_type(x509.DNSName))
    except (ValueError, x509.ExtensionNotFound):
        return set()


def ensure_certs(state_dir: str | os.PathLike) -> dict[str, Path]:
    """Return paths {ca, leaf, key}; create them if any is missing."""
    d = Path(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    paths = {"ca": d / "ca.pem", "leaf": d / "leaf.pem", "key": d / "leaf.key"}
    if all(p.exists() for p in paths.values()) and _names_of(paths["leaf"]) == set(LEAF_DNS_NAMES):
        return paths   # (a state dir from before a host was added gets new certificates)
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(_name("Tributary Sandbox Test CA")).issuer_name(_name("Tributary Sandbox Test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in LEAF_DNS_NAMES] + [x509.IPAddress(ipaddress.ip_address(i)) for i in LEAF_IPS]
    leaf = (x509.CertificateBuilder().subject_name(_name("Tributary Sandbox vendor hosts")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths["key"].write_bytes(_key_pem(leaf_key))
    os.chmod(paths["key"], 0o600)
    paths["leaf"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return paths
