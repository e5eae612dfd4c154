"""``transferapp connection ...``: add, list, show, test, remove, trust and forget host keys, set secrets."""

from __future__ import annotations

import argparse
from typing import Any

from transferapp.app import AppContext, open_app
from transferapp.cli.connection_add import (
    SECRET_FLAGS,
    SECRET_OF_AUTH,
    add_encryption_flags,
    apply_encryption_flags,
    pin_first_key,
    read_secret_stdin,
    register_add,
)
from transferapp.cli.output import print_json, print_table
from transferapp.config import Connection, validate_connection
from transferapp.errors import ConfigError, SecretStoreError
from transferapp.transports.hostkeys import fingerprint
from transferapp.transports.registry import make_transport


def register(commands: Any) -> None:
    """Add the ``connection`` command group."""
    group = commands.add_parser("connection", help="manage connection profiles").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )

    register_add(group)

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

    passwd = group.add_parser("passwd", help="store a new password, passphrase, token or client secret")
    passwd.add_argument("name")
    which = passwd.add_mutually_exclusive_group(required=True)
    for kind in SECRET_FLAGS:
        which.add_argument(f"--{kind.replace('_', '-')}-stdin", dest=kind, action="store_true")
    passwd.set_defaults(handler=set_secret)

    change = group.add_parser("set", help="change a connection's encryption or PCI guard")
    change.add_argument("name")
    add_encryption_flags(change)
    change.add_argument("--no-encrypt", action="store_true", help="stop requiring encryption")
    change.set_defaults(handler=set_connection)


def _secret_state(ctx: AppContext, conn: Connection) -> str:
    kind = SECRET_OF_AUTH.get(conn.auth)
    if kind is None:
        return "-"
    try:
        return "stored" if ctx.secrets.has(conn.name, kind) else "none"
    except SecretStoreError:
        return "keyring unavailable"


def describe(ctx: AppContext, conn: Connection) -> dict[str, Any]:
    """What ``list`` and ``show`` print about a connection (never a secret)."""
    url = conn.remote
    pinned = ctx.hostkeys.pinned(url.host, url.port) if url.scheme == "sftp" else {}
    if url.scheme != "sftp":
        identity = "TLS certificate verified" + (f" with {conn.ca_file}" if conn.ca_file else "")
        if url.scheme == "webdav":
            identity = "none: plain http, the server is not verified (use webdavs://)"
    else:
        identity = ", ".join(f"{k} {fingerprint(v)}" for k, v in pinned.items()) or (
            f"accepted {conn.host_key} (pinned at first connect)" if conn.host_key else "not trusted yet"
        )
    return {
        "name": conn.name,
        "url": str(url),
        "protocol": url.scheme,
        "auth": conn.auth,
        "key_file": conn.key_file,
        "host_key": identity,
        "secret": _secret_state(ctx, conn),
        "options": {**conn.options},
        "encryption": (
            f"required to {', '.join(conn.encryption.recipients)}" + (", signed" if conn.encryption.sign else "")
            if conn.encryption
            else "off"
        ),
        "pci_guard": "on" if conn.option("pci_guard") else "off (explicitly turned off)",
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
        checked = {"sftp": "host key verified", "webdavs": "TLS certificate verified"}.get(url.scheme, "plain http")
        who = f"as {url.user}" if url.user else f"with {conn.auth}"
        print(f"ok  connected to {url.host}:{url.port}, {checked}, logged in {who}")
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
    tables = ctx.config.other.get("jobs", {})
    users = sorted(n for n, t in tables.items() if isinstance(t, dict) and t.get("connection") == args.name)
    if users:
        raise ConfigError(
            f"The connection {args.name!r} is used by job(s) {', '.join(users)}",
            "remove those jobs first with 'transferapp job remove NAME', or point them at another connection",
        )
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
    """Replace one of a connection's secrets in the keyring."""
    ctx = open_app()
    ctx.config.connection(args.name)
    kind = next(kind for kind in SECRET_FLAGS if getattr(args, kind))
    ctx.secrets.set(args.name, kind, read_secret_stdin(SECRET_FLAGS[kind]))
    print(f"Stored the {SECRET_FLAGS[kind]} for {args.name!r} in the OS keyring.")
    return 0


def set_connection(args: argparse.Namespace) -> int:
    """Change a connection's required encryption and PCI guard."""
    ctx = open_app()
    conn = ctx.config.connection(args.name)
    if args.no_encrypt:
        if args.encrypt_to or args.sign:
            raise ConfigError("--no-encrypt cannot be combined with --encrypt-to or --sign")
        conn.encryption = None
    apply_encryption_flags(ctx, conn, args)
    ctx.config.save()
    info = describe(ctx, conn)
    print(f"Connection {conn.name!r}: encryption {info['encryption']}; PCI guard {info['pci_guard']}.")
    return 0
