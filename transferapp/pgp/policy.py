"""Turn command-line or job settings into a checked EncryptPolicy: fingerprints resolved, keys usable."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from transferapp.encryption import EncryptPolicy
from transferapp.errors import ConfigError
from transferapp.pgp.crypt import require_signer
from transferapp.pgp.keyinfo import inspect, require_usable
from transferapp.pgp.keystore import KeyStore


def checked_recipients(keys: KeyStore, texts: Sequence[str]) -> tuple[str, ...]:
    """Full fingerprints for the given ones, each an imported key transferapp may encrypt to."""
    fingerprints = tuple(dict.fromkeys(keys.resolve(text) for text in texts))
    for fingerprint in fingerprints:
        require_usable(inspect(keys.cert(fingerprint)))
    return fingerprints


def build_policy(
    keys: KeyStore,
    required: EncryptPolicy | None,
    encrypt_to: Sequence[str] = (),
    sign: bool = False,
    gzip: bool = False,
    extension: str | None = None,
) -> EncryptPolicy | None:
    """The policy for one send: the flags' recipients plus what the connection (or job) requires."""
    if not encrypt_to and required is None:
        if sign or gzip or extension:
            raise ConfigError("--sign, --gzip and --pgp-ext only apply with encryption", "add --encrypt-to FINGERPRINT")
        return None
    if encrypt_to:
        policy = EncryptPolicy(tuple(encrypt_to), sign, extension or ".pgp", gzip).merged(required)
    else:
        assert required is not None
        policy = EncryptPolicy(
            required.recipients, required.sign or sign, extension or required.extension, required.gzip or gzip
        )
    policy = dataclasses.replace(policy, recipients=checked_recipients(keys, policy.recipients))
    if policy.sign:
        require_signer(keys)
    return policy
