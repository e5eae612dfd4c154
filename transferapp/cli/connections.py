"""``transferapp connection ...``: add, list, show, test, remove, trust and forget host keys, set secrets."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from transferapp.app import AppContext, open_app
from transferapp.cli.output import print_json, print_table
from transferapp.config import Connection, validate_connection, validate_name
from transferapp.errors import ConfigError, SecretStoreError, TransferAppError
from transferapp.transports.hostkeys import fingerprint
from transferapp.transports.registry import make_transport


def register(commands: Any) -> None:
    """Add the ``connection`` command group."""
    group = commands.add_parser("connection", help="manage connection profiles").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )

    add = group.add_parser("add", help="add a connection")
    add.add_argument("name")
    add.add_argument("--url", required=True, help="sftp://user@host:port/remote/folder (/~/folder: under home)")
    auth = add.add_mutually_exclusive_group()
    auth.add_argument("--key-file", help="log in with this private key (RSA, ECDSA, Ed25519)")
    auth.add_argument("--agent", action="store_true", help="log in with the keys in ssh-agent")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (to the keyring)")
    add.add_argument("--passphrase-stdin", action="store_true", help="read the key passphrase from stdin")
    trust = add.add_mutually_exclusive_group()
    trust.add_argument("--accept-host-key", metavar="FP", help="accept this host key fingerprint (SHA256:...)")
    trust.add_argument("--trust-new-host-key", action="store_true", help="connect now and pin the key seen")
    add.add_argument("--concurrency", type=int, help="SFTP sessions for many files (default 4)")
    add.add_argument("--streams", type=int, help="parallel streams for one large file (default 4)")
    add.add_argument("--timeout", type=float, help="seconds to wait for the server (default 30)")
    add.set_defaults(handler=add_connection)

    listing = group.add_parser("list", help="list connections")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_connections)

    show = group.add_parser("show", help="show one connection")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_connection)

    test = group.add_parser("test", help="connect, log in and check the remote folder is writable")
    test.add_argument("name")
    test.set_defaults(handler=test_connection)

    remove = group.add_parser("remove", help="remove a connection and its keyring entries")
    remove.add_argument("name")
    remove.set_defaults(handler=remove_connection)

    trust_cmd = group.add_parser("trust", help="accept a server's host key")
    trust_cmd.add_argument("name")
    how = trust_cmd.add_mutually_exclusive_group(required=True)
    how.add_argument("--accept-host-key", metavar="FP")
    how.add_argument("--trust-new-host-key", action="store_true")
    trust_cmd.set_defaults(handler=trust_host_key)

    forget = group.add_parser("forget-host-key", help="remove the pinned host key (after a confirmed change)")
    forget.add_argument("name")
    forget.set_defaults(handler=forget_host_key)

    passwd = group.add_parser("passwd", help="store a new password or key passphrase in the keyring")
    passwd.add_argument("name")
    which = passwd.add_mutually_exclusive_group(required=True)
    which.add_argument("--password-stdin", action="store_true")
    which.add_argument("--passphrase-stdin", action="store_true")
    passwd.set_defaults(handler=set_secret)


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


def add_connection(args: argparse.Namespace) -> int:
    """Validate, store secrets in the keyring, pin the host key if asked, then save the profile."""
    ctx = open_app()
    validate_name(args.name)
    if args.name in ctx.config.connections:
        raise ConfigError(
            f"A connection named {args.name!r} already exists",
            "pick another name, or remove it first with 'transferapp connection remove'",
        )
    auth = "key" if args.key_file else "agent" if args.agent else "password"
    options = {k: getattr(args, k) for k in ("concurrency", "streams", "timeout") if getattr(args, k) is not None}
    conn = Connection(args.name, args.url, auth, args.key_file, args.accept_host_key, options)
    validate_connection(conn, f"connection {args.name!r}")
    if auth == "password" and not args.password_stdin:
        raise ConfigError(
            "A password connection needs --password-stdin (the password goes to the OS keyring)",
            "or log in with --key-file PATH or --agent",
        )
    if args.password_stdin and auth != "password":
        raise ConfigError("--password-stdin is for password logins", "use --passphrase-stdin for an encrypted key")
    secrets = {}
    if args.password_stdin:
        secrets["password"] = read_secret_stdin("password")
    if args.passphrase_stdin:
        secrets["passphrase"] = read_secret_stdin("key passphrase")
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


def _secret_state(ctx: AppContext, conn: Connection) -> str:
    kind = {"password": "password", "key": "passphrase"}.get(conn.auth)
    if kind is None:
        return "-"
    try:
        return "stored" if ctx.secrets.has(conn.name, kind) else "none"
    except SecretStoreError:
        return "keyring unavailable"


def describe(ctx: AppContext, conn: Connection) -> dict[str, Any]:
    """What ``list`` and ``show`` print about a connection (never a secret)."""
    url = conn.remote
    pinned = ctx.hostkeys.pinned(url.host, url.port)
    return {
        "name": conn.name,
        "url": str(url),
        "protocol": url.scheme,
        "auth": conn.auth,
        "key_file": conn.key_file,
        "host_key": ", ".join(f"{k} {fingerprint(v)}" for k, v in pinned.items())
        or (f"accepted {conn.host_key} (pinned at first connect)" if conn.host_key else "not trusted yet"),
        "secret": _secret_state(ctx, conn),
        "options": {**conn.options},
    }


def list_connections(args: argparse.Namespace) -> int:
    """List the connection profiles."""
    ctx = open_app()
    rows = [describe(ctx, c) for _, c in sorted(ctx.config.connections.items())]
    if args.json:
        print_json(rows)
    elif not rows:
        print("No connections yet. Add one with 'transferapp connection add NAME --url sftp://user@host/folder'.")
    else:
        print_table(["NAME", "URL", "AUTH", "SECRET"], [[r["name"], r["url"], r["auth"], r["secret"]] for r in rows])
    return 0


def show_connection(args: argparse.Namespace) -> int:
    """Show one connection's details."""
    ctx = open_app()
    info = describe(ctx, ctx.config.connection(args.name))
    if args.json:
        print_json(info)
    else:
        for key, value in info.items():
            print(f"{key + ':':10} {value if value not in (None, {}) else '-'}")
    return 0


def test_connection(args: argparse.Namespace) -> int:
    """Connect, check the host key, log in, check the folder is there and writable; report each step."""
    ctx = open_app()
    conn = ctx.config.connection(args.name)
    url = conn.remote
    transport = make_transport(conn, ctx.secrets, ctx.hostkeys)
    try:
        transport.connect()
        print(f"ok  connected to {url.host}:{url.port}, host key verified, logged in as {url.user}")
        home = transport.home()
        entry = transport.stat(home)
        if entry is None or not entry.is_dir:
            raise ConfigError(f"The remote folder {home} does not exist", "create it, or fix the path in the URL")
        print(f"ok  remote folder {home} exists")
        transport.writable(home)
        print(f"ok  remote folder {home} is writable")
    finally:
        transport.close()
    return 0


def remove_connection(args: argparse.Namespace) -> int:
    """Remove a profile, its keyring entries, and its host-key pin when no other profile uses that server."""
    ctx = open_app()
    conn = ctx.config.connection(args.name)
    ctx.secrets.delete_all(args.name)
    del ctx.config.connections[args.name]
    ctx.config.save()
    url = conn.remote
    if not any((c.remote.host, c.remote.port) == (url.host, url.port) for c in ctx.config.connections.values()):
        ctx.hostkeys.forget(url.host, url.port)
    print(f"Removed connection {args.name!r} and its keyring entries.")
    return 0


def trust_host_key(args: argparse.Namespace) -> int:
    """Accept a fingerprint for the next connect, or pin the key the server offers now."""
    ctx = open_app()
    conn = ctx.config.connection(args.name)
    if args.accept_host_key:
        conn.host_key = args.accept_host_key
        validate_connection(conn, f"connection {args.name!r}")
        ctx.config.save()
        print(f"Accepted {args.accept_host_key} for {args.name!r}; it is pinned at the first connect.")
    else:
        pin_first_key(ctx, conn)
    return 0


def forget_host_key(args: argparse.Namespace) -> int:
    """Remove the pinned key of a connection's server."""
    ctx = open_app()
    conn = ctx.config.connection(args.name)
    removed = ctx.hostkeys.forget(conn.remote.host, conn.remote.port)
    conn.host_key = None
    ctx.config.save()
    print("Removed the pinned host key." if removed else "No host key was pinned for that server.")
    return 0


def set_secret(args: argparse.Namespace) -> int:
    """Replace a connection's password or key passphrase in the keyring."""
    ctx = open_app()
    ctx.config.connection(args.name)
    kind = "password" if args.password_stdin else "passphrase"
    ctx.secrets.set(args.name, kind, read_secret_stdin(kind))
    print(f"Stored the {kind} for {args.name!r} in the OS keyring.")
    return 0
