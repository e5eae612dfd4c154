"""``transferapp key``: import partners' public keys (after a fingerprint check), own secret keys, list, remove."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from transferapp.app import open_app
from transferapp.cli.connection_add import read_secret_stdin
from transferapp.cli.output import error, print_json, print_table
from transferapp.errors import ConfigError, TransferAppError


def register(commands: Any) -> None:
    """Add the ``key`` command group."""
    group = commands.add_parser("key", help="manage OpenPGP keys for encryption and signing").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    imp = group.add_parser("import", help="import a partner's public key (armored or binary)")
    imp.add_argument("file")
    imp.add_argument("--yes", action="store_true", help="accept the fingerprint without asking")
    imp.set_defaults(handler=import_key)

    secret = group.add_parser("import-secret", help="import an own secret key (signs uploads, decrypts pulls)")
    secret.add_argument("file")
    secret.add_argument("--passphrase-stdin", action="store_true", help="read the key's passphrase (to the keyring)")
    secret.add_argument("--yes", action="store_true", help="accept the fingerprint without asking")
    secret.set_defaults(handler=import_secret)

    listing = group.add_parser("list", help="list imported keys")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_keys)

    show = group.add_parser("show", help="show one key")
    show.add_argument("fingerprint", metavar="FP")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_key)

    remove = group.add_parser("remove", help="remove a key (an own key's secret and keyring entries too)")
    remove.add_argument("fingerprint", metavar="FP")
    remove.add_argument("--yes", action="store_true")
    remove.set_defaults(handler=remove_key)

    passwd = group.add_parser("passwd", help="store a new passphrase for an own secret key")
    passwd.add_argument("fingerprint", metavar="FP")
    passwd.add_argument("--passphrase-stdin", action="store_true", required=True)
    passwd.set_defaults(handler=set_passphrase)


def _read_key_file(path_text: str) -> bytes:
    from transferapp.pgp.keyinfo import read_key_file

    return read_key_file(Path(path_text).expanduser())


def _describe(info: Any) -> list[str]:
    from transferapp.pgp.keyinfo import pretty_fingerprint

    expires = f"{info.expires:%Y-%m-%d}" if info.expires else "never"
    lines = [
        f"Fingerprint: {pretty_fingerprint(info.fingerprint)}",
        *[f"User ID:     {uid}" for uid in info.user_ids or ["(none)"]],
        f"Algorithms:  {', '.join(info.algorithms)}",
        f"Created:     {info.created:%Y-%m-%d}" if info.created else "Created:     unknown",
        f"Expires:     {expires}",
    ]
    if info.has_secret:
        lines.append("Secret:      own key (signs uploads, decrypts pulls)")
    return lines


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise ConfigError("Not confirmed: there is no terminal to ask on", "check the fingerprint, then add --yes")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise ConfigError("Not confirmed; nothing was imported", "run the command again and answer y")


def _parse_certs(data: bytes, source: str) -> list[Any]:
    from transferapp.pgp.keyinfo import parse_certs

    return parse_certs(data, source)


def import_key(args: argparse.Namespace) -> int:
    """Show each key in the file, refuse unusable ones, import after the fingerprint is confirmed."""
    from transferapp.pgp.keyinfo import holds_secret, inspect, require_usable

    ctx = open_app()
    keys = ctx.keys()
    data = _read_key_file(args.file)
    certs = _parse_certs(data, args.file)
    for cert in certs:
        info = inspect(cert)
        if holds_secret(data):
            raise ConfigError(
                f"{args.file} holds a secret key ({info.label})",
                "import partners' keys with 'gpg --export' output; own keys with 'transferapp key import-secret'",
            )
        print("\n".join(_describe(info)))
        require_usable(info)
        if info.expires_soon():
            print(f"warning: this key expires on {info.expires:%Y-%m-%d}; ask the partner for a renewed key soon")
        _confirm("Does this fingerprint match the one the partner gave you?", args.yes)
        keys.save_public(cert)
        print(f"Imported {info.label} ({info.fingerprint}).")
    return 0


def import_secret(args: argparse.Namespace) -> int:
    """Import an own secret key: sealed on disk, its passphrase checked and stored in the keyring."""
    from transferapp.pgp.keyinfo import inspect, parse_tsk, unlock_notes

    ctx = open_app()
    tsk = parse_tsk(_read_key_file(args.file), args.file)
    info = inspect(tsk.extract_certificate())
    print("\n".join(_describe(info)))
    if info.version >= 5:
        raise ConfigError(f"{info.label} is a v{info.version} key, which GnuPG 2.2 partners cannot use")
    passphrase = read_secret_stdin("key passphrase") if args.passphrase_stdin else None
    for note in unlock_notes(tsk, passphrase, info.label, "give it with --passphrase-stdin"):
        print(f"note: {note}")
    _confirm("Import this as your own key?", args.yes)
    ctx.secrets.backend()  # fail before anything is written when there is no usable keyring
    ctx.keys().save_secret(tsk, passphrase)
    print(f"Imported own key {info.label} ({info.fingerprint}); the secret is sealed, its keys are in the OS keyring.")
    return 0


def list_keys(args: argparse.Namespace) -> int:
    """Print every imported key."""
    infos = open_app().keys().infos()
    if args.json:
        print_json([info.to_json() for info in infos])
        return 0
    if not infos:
        print("No keys imported yet. Import one with 'transferapp key import FILE'.")
        return 0
    now = datetime.now(UTC)
    rows = []
    for info in infos:
        state = "own" if info.has_secret else "ok"
        if info.problems:
            state = "unusable: " + "; ".join(info.problems)
        elif info.expires_soon(now):
            state = f"expires {info.expires:%Y-%m-%d}"
        rows.append([info.fingerprint, info.label, ", ".join(info.algorithms), state])
    print_table(["FINGERPRINT", "USER ID", "ALGORITHMS", "STATE"], rows)
    return 0


def show_key(args: argparse.Namespace) -> int:
    """Print one key's details."""
    keys = open_app().keys()
    info = keys.info(keys.resolve(args.fingerprint))
    if args.json:
        print_json(info.to_json())
        return 0
    print("\n".join(_describe(info)))
    for problem in info.problems:
        error(f"this key cannot be used: {problem}")
    return 0


def remove_key(args: argparse.Namespace) -> int:
    """Remove a key; refuse while a connection's encryption still names it."""
    ctx = open_app()
    keys = ctx.keys()
    fingerprint = keys.resolve(args.fingerprint)
    users = [c.name for c in ctx.config.connections.values() if c.encryption and fingerprint in c.encryption.recipients]
    for name, table in ctx.config.other.get("jobs", {}).items():
        policy = table.get("encryption") if isinstance(table, dict) else None
        if (isinstance(policy, dict) and fingerprint in [str(r).upper() for r in policy.get("recipients", [])]) or (
            isinstance(table, dict) and str(table.get("verify_from", "")).upper() == fingerprint
        ):
            users.append(f"job {name}")
    if users:
        raise ConfigError(
            f"The key {fingerprint} is a recipient of connection(s) {', '.join(users)}",
            "change their encryption first ('transferapp connection set NAME --encrypt-to OTHER_FP', or the job)",
        )
    _confirm(f"Remove the key {fingerprint}?", args.yes)
    keys.remove(fingerprint)
    print(f"Removed {fingerprint}.")
    return 0


def set_passphrase(args: argparse.Namespace) -> int:
    """Check and store a new passphrase for an own key."""
    from transferapp.pgp.keystore import keyring_name

    ctx = open_app()
    keys = ctx.keys()
    fingerprint = keys.resolve(args.fingerprint)
    passphrase = read_secret_stdin("key passphrase")
    try:
        keys.tsk(fingerprint).decryptor(passphrase)
    except RuntimeError:
        try:
            keys.tsk(fingerprint).signer(passphrase)
        except RuntimeError:
            raise ConfigError(f"That passphrase does not unlock {fingerprint}", "nothing was changed") from None
    except TransferAppError:
        raise
    ctx.secrets.set(keyring_name(fingerprint), "passphrase", passphrase)
    print(f"Stored the passphrase for {fingerprint} in the OS keyring.")
    return 0
