"""``transferapp connection add``: SFTP, WebDAV and Salesforce B2C Commerce profiles; secrets to the keyring."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from transferapp import sfcc
from transferapp.app import AppContext, open_app
from transferapp.config import Connection, validate_connection, validate_name
from transferapp.connection_builder import SECRET_OF_AUTH
from transferapp.errors import ConfigError, TransferAppError
from transferapp.transports.hostkeys import fingerprint
from transferapp.transports.registry import make_transport

SECRET_FLAGS = {
    "password": "password",
    "passphrase": "key passphrase",
    "token": "token",
    "client_secret": "client secret",
}


def register_add(group: Any) -> None:
    """Add ``connection add`` to the connection command group."""
    add = group.add_parser("add", help="add a connection")
    add.add_argument("name")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="sftp://user@host:port/folder (/~/folder: under home), webdavs://user@host/path")
    where.add_argument("--sfcc-instance", metavar="HOST", help="a Salesforce B2C Commerce instance host name")
    add.add_argument(
        "--sfcc-folder",
        metavar="PATH",
        default=sfcc.DEFAULT_FOLDER,
        help=f"folder under the instance's WebDAV Sites root (default {sfcc.DEFAULT_FOLDER})",
    )
    add.add_argument("--sfcc-user", metavar="USER", help="Business Manager user (access key: --password-stdin)")
    add.add_argument("--sfcc-client-id", metavar="ID", help="Account Manager API client id")
    add.add_argument("--token-url", metavar="URL", help=f"OAuth2 token URL (default {sfcc.DEFAULT_TOKEN_URL})")
    auth = add.add_mutually_exclusive_group()
    auth.add_argument("--key-file", help="log in with this private key (RSA, ECDSA, Ed25519)")
    auth.add_argument("--agent", action="store_true", help="log in with the keys in ssh-agent")
    auth.add_argument("--token-stdin", action="store_true", help="read a bearer token from stdin (to the keyring)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (to the keyring)")
    add.add_argument("--passphrase-stdin", action="store_true", help="read the key passphrase from stdin")
    add.add_argument("--client-secret-stdin", action="store_true", help="read the API client secret from stdin")
    trust = add.add_mutually_exclusive_group()
    trust.add_argument("--accept-host-key", metavar="FP", help="accept this host key fingerprint (SHA256:...)")
    trust.add_argument("--trust-new-host-key", action="store_true", help="connect now and pin the key seen")
    add.add_argument("--ca-file", metavar="PATH", help="CA bundle to verify an https server with")
    add.add_argument("--concurrency", type=int, help="sessions for many files (default 4)")
    add.add_argument("--streams", type=int, help="parallel streams for one large file (default 4)")
    add.add_argument("--timeout", type=float, help="seconds to wait for the server (default 30)")
    add.add_argument("--max-upload-mb", type=int, help="refuse larger files before sending (SFCC: 100)")
    add.add_argument("--zip-upload", action="store_true", help="zip files over the limit and have the server unzip")
    add_encryption_flags(add)
    add.set_defaults(handler=add_connection)


def add_encryption_flags(parser: argparse.ArgumentParser) -> None:
    """--encrypt-to, --sign, --gzip, --pgp-ext and --pci-guard, shared by 'connection add' and 'connection set'."""
    parser.add_argument(
        "--encrypt-to", action="append", default=[], metavar="FP", help="encrypt everything sent here to this key"
    )
    parser.add_argument("--sign", action="store_true", help="sign encrypted uploads with the own key")
    parser.add_argument("--gzip", action="store_true", help="gzip before encrypting")
    parser.add_argument("--pgp-ext", choices=(".pgp", ".gpg"), help="extension of encrypted files (default .pgp)")
    parser.add_argument(
        "--pci-guard", choices=("on", "off"), help="refuse unencrypted files with card numbers (default on)"
    )


def apply_encryption_flags(ctx: AppContext, conn: Connection, args: argparse.Namespace) -> None:
    """Set the connection's required encryption and PCI guard from the flags (keys checked first)."""
    if args.encrypt_to or args.sign or args.gzip or args.pgp_ext:
        from transferapp.pgp.policy import build_policy

        recipients = args.encrypt_to or (conn.encryption.recipients if conn.encryption else ())
        conn.encryption = build_policy(ctx.keys(), None, recipients, args.sign, args.gzip, args.pgp_ext)
    if args.pci_guard == "off":
        conn.options["pci_guard"] = False
    elif args.pci_guard == "on":
        conn.options.pop("pci_guard", None)


def read_secret_stdin(what: str) -> str:
    """Read one secret line from stdin (without echo when it is a terminal)."""
    if sys.stdin.isatty():
        import getpass

        secret = getpass.getpass(f"{what}: ")
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise ConfigError(f"No {what} was given on stdin", f"pipe the {what} in, e.g. from your password manager")
    return secret


def build_connection(args: argparse.Namespace) -> Connection:
    """The profile the flags describe (not yet saved)."""
    options: dict[str, Any] = {
        key: getattr(args, key)
        for key in ("concurrency", "streams", "timeout", "max_upload_mb")
        if getattr(args, key) is not None
    }
    if args.zip_upload:
        options["zip_upload"] = True
    if args.sfcc_instance:
        url = sfcc.instance_url(args.sfcc_instance, args.sfcc_folder, args.sfcc_user)
        options.setdefault("max_upload_mb", sfcc.MAX_UPLOAD_MB)
    else:
        url = args.url
    if args.sfcc_client_id:
        auth = "sfcc-client"
    elif args.key_file:
        auth = "key"
    elif args.agent:
        auth = "agent"
    elif args.token_stdin:
        auth = "token"
    else:
        auth = "password"
    conn = Connection(
        args.name,
        url,
        auth,
        args.key_file,
        args.accept_host_key,
        options,
        ca_file=args.ca_file,
        client_id=args.sfcc_client_id,
        token_url=args.token_url,
    )
    validate_connection(conn, f"connection {args.name!r}")
    return conn


def secrets_from_stdin(args: argparse.Namespace, conn: Connection) -> dict[str, str]:
    """Read the secrets the flags announce, after checking they fit the login kind."""
    given = [kind for kind in SECRET_FLAGS if getattr(args, f"{kind}_stdin", False)]
    for kind in given:
        if kind != SECRET_OF_AUTH.get(conn.auth):
            flag = f"--{kind.replace('_', '-')}-stdin"
            raise ConfigError(f"{flag} does not fit a {conn.auth} login", "give only the secret that login uses")
    if conn.auth == "password" and not given:
        raise ConfigError(
            "A password connection needs --password-stdin (the password goes to the OS keyring)",
            "or log in with --key-file PATH, --agent or --token-stdin",
        )
    if conn.auth == "sfcc-client" and not given:
        raise ConfigError("An API-client connection needs --client-secret-stdin (it goes to the OS keyring)")
    return {kind: read_secret_stdin(SECRET_FLAGS[kind]) for kind in given}


def add_connection(args: argparse.Namespace) -> int:
    """Validate, store secrets in the keyring, pin the host key if asked, then save the profile."""
    ctx = open_app()
    validate_name(args.name)
    if args.name in ctx.config.connections:
        raise ConfigError(
            f"A connection named {args.name!r} already exists",
            "pick another name, or remove it first with 'transferapp connection remove'",
        )
    conn = build_connection(args)
    apply_encryption_flags(ctx, conn, args)
    secrets = secrets_from_stdin(args, conn)
    if secrets:
        ctx.secrets.backend()  # fail before anything is written when there is no usable keyring
    for kind, secret in secrets.items():
        ctx.secrets.set(args.name, kind, secret)
    ctx.config.connections[args.name] = conn
    if args.trust_new_host_key:
        try:
            pin_first_key(ctx, conn)
        except TransferAppError:
            if secrets:
                ctx.secrets.delete_all(args.name)
            raise
    ctx.config.save()
    print(f"Added connection {args.name!r} ({conn.remote}).")
    return 0


def pin_first_key(ctx: AppContext, conn: Connection) -> None:
    """Connect once, pinning the host key seen (trust on first use), and say what was pinned."""
    transport = make_transport(conn, ctx.secrets, ctx.hostkeys, trust_new_host_key=True)
    try:
        transport.connect()
    except TransferAppError as exc:
        if not ctx.hostkeys.pinned(conn.remote.host, conn.remote.port):
            raise
        print(f"warning: the host key was pinned, but the login failed: {exc}", file=sys.stderr)
    finally:
        transport.close()
    for kind, key in ctx.hostkeys.pinned(conn.remote.host, conn.remote.port).items():
        print(f"Trusted host key {kind} {fingerprint(key)} for {conn.remote.host}:{conn.remote.port}.")
