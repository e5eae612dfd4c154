"""``transferapp send``, ``pull`` and ``queue``: put transfers in the persistent queue and run them."""

from __future__ import annotations

import argparse
import fnmatch
import posixpath
import uuid
from pathlib import Path
from typing import Any

from transferapp.app import AppContext, open_app
from transferapp.cli.output import TerminalProgress, error, human_bytes, print_json, print_table
from transferapp.config import Connection
from transferapp.encryption import DecryptPolicy, EncryptPolicy
from transferapp.engine import Engine
from transferapp.errors import ConfigError, TransferAppError
from transferapp.outcomes import cancel_transfer
from transferapp.store.queue import ACTIVE, QueueItem
from transferapp.transports.base import Transport
from transferapp.transports.registry import make_transport
from transferapp.uploads import queue_upload, remote_folder


def register(commands: Any) -> None:
    """Add ``send``, ``pull`` and ``queue``."""
    send = commands.add_parser("send", help="upload files (or folders) and wait until they are published")
    send.add_argument("files", nargs="+", metavar="FILE")
    send.add_argument("--to", required=True, metavar="NAME", help="connection name")
    send.add_argument("--remote-dir", metavar="DIR", help="folder under the connection's folder (or absolute)")
    send.add_argument("--json", action="store_true", help="print the results as JSON")
    send.add_argument(
        "--encrypt-to", action="append", default=[], metavar="FP", help="OpenPGP-encrypt to this key (repeatable)"
    )
    send.add_argument("--sign", action="store_true", help="sign with the own key as well")
    send.add_argument("--gzip", action="store_true", help="gzip before encrypting (NAME.gz.pgp)")
    send.add_argument("--pgp-ext", choices=(".pgp", ".gpg"), help="extension of encrypted files (default .pgp)")
    send.set_defaults(handler=send_files)

    pull = commands.add_parser("pull", help="download the remote files that match a pattern")
    pull.add_argument("name", metavar="NAME")
    pull.add_argument("pattern", metavar="PATTERN", help="glob such as 'orders_*.xml'")
    pull.add_argument("--to", required=True, metavar="DIR", dest="target")
    pull.add_argument("--remote-dir", metavar="DIR")
    pull.add_argument("--json", action="store_true")
    pull.add_argument("--decrypt", action="store_true", help="decrypt OpenPGP files with the own key")
    pull.add_argument("--verify-from", metavar="FP", help="require a good signature from this key (with --decrypt)")
    pull.add_argument("--keep-encrypted", action="store_true", help="keep the encrypted file next to the decrypted")
    pull.set_defaults(handler=pull_files)

    queue = commands.add_parser("queue", help="list queued, running and failed transfers")
    queue.add_argument("--json", action="store_true")
    queue.add_argument("--all", action="store_true", help="include finished transfers")
    queue.set_defaults(handler=list_queue)
    actions = queue.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("run", help="process everything queued (resumes work left by a crash)").set_defaults(
        handler=run_queue
    )
    retry = actions.add_parser("retry", help="queue a failed or cancelled transfer again")
    retry.add_argument("id", type=int)
    retry.set_defaults(handler=retry_item)
    cancel = actions.add_parser("cancel", help="cancel a queued or running transfer")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(handler=cancel_item)


def run_batch(
    ctx: AppContext, batch: str, names: dict[int, str], session: tuple[Connection, Transport] | None = None
) -> None:
    """Run one batch of the queue to the end, showing progress on a terminal; ``session``: a logged-in one to use."""
    engine = Engine(ctx, sink=TerminalProgress(names))
    if session is not None:
        engine.adopt(*session)
    engine.run(batch=batch)


def report(items: list[QueueItem], as_json: bool) -> int:
    """Print each transfer's result; return 0 when all succeeded."""
    if as_json:
        print_json([item.to_json() for item in items])
    for item in items:
        if as_json:
            continue
        arrow = "->" if item.direction == "up" else "<-"
        if item.state == "done":
            print(f"ok      {item.local_path} {arrow} {item.remote_path} ({human_bytes(item.total_bytes)})")
        else:
            error(
                f"{item.state}: {item.local_path} {arrow} {item.remote_path}: {item.error}"
                + (f" ({item.hint})" if item.hint else "")
            )
    return 0 if all(item.state == "done" for item in items) else 1


def send_files(args: argparse.Namespace) -> int:
    """Queue the files as one batch, run it, report; non-zero if any failed."""
    ctx = open_app()
    conn = ctx.config.connection(args.to)
    policy = send_policy(ctx, conn, args)
    queued = queue_upload(ctx, conn, args.files, args.remote_dir, policy)
    for problem in queued.problems:
        error(problem)
    batch, ids = queued.batch, queued.ids
    names = {item_id: path.name for item_id, path in queued.files.items()}
    if ids:
        run_batch(ctx, batch, names)
    status = report(ctx.queue.items(batch=batch), args.json) if ids else 1
    return 1 if queued.problems else status


def send_policy(ctx: AppContext, conn: Any, args: argparse.Namespace) -> EncryptPolicy | None:
    """The encryption the flags and the connection ask for (keys checked before anything is queued)."""
    if not (args.encrypt_to or args.sign or args.gzip or args.pgp_ext or conn.encryption):
        return None
    from transferapp.pgp.policy import build_policy

    return build_policy(ctx.keys(), conn.encryption, args.encrypt_to, args.sign, args.gzip, args.pgp_ext)


def decrypt_policy(
    ctx: AppContext, decrypt: bool, verify_from: str | None, keep_encrypted: bool = False
) -> DecryptPolicy | None:
    """What ``--decrypt``, ``--verify-from`` and ``--keep-encrypted`` ask for (keys checked first)."""
    if not decrypt:
        for flag, given in (("--verify-from", verify_from), ("--keep-encrypted", keep_encrypted)):
            if given:
                raise ConfigError(f"{flag} only applies with --decrypt", "add --decrypt")
        return None
    keys = ctx.keys()
    if not keys.own_fingerprints():
        raise ConfigError("--decrypt needs an own secret key", "import it with 'transferapp key import-secret FILE'")
    sender = keys.resolve(verify_from) if verify_from else None
    return DecryptPolicy(sender, keep_encrypted)


def pull_files(args: argparse.Namespace) -> int:
    """List the remote folder, queue every match, run them, report."""
    ctx = open_app()
    conn = ctx.config.connection(args.name)
    decrypt = decrypt_policy(ctx, args.decrypt, args.verify_from, args.keep_encrypted)
    target = Path(args.target).expanduser().absolute()
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is not a folder", "give --to an existing or new folder")
    transport = make_transport(conn, ctx.secrets, ctx.hostkeys)
    try:
        transport.connect()
        home = transport.home()
        folder = remote_folder(args.remote_dir)
        remote_dir = folder if folder.startswith("/") else posixpath.join(home, folder) if folder else home
        matches = [
            e
            for e in transport.list(remote_dir)
            if not e.is_dir and fnmatch.fnmatchcase(e.name, args.pattern) and not e.name.endswith(".part")
        ]
    except BaseException:
        transport.close()
        raise
    if not matches:
        transport.close()
        print(f"No files match {args.pattern!r} in {remote_dir}.")
        return 0
    batch = uuid.uuid4().hex
    matches.sort(key=lambda e: e.name)
    rows = [
        {
            "connection": conn.name,
            "direction": "down",
            "local_path": str(target / (decrypt.local_name(entry.name) if decrypt else entry.name)),
            "remote_path": entry.path,
            "max_attempts": int(conn.option("max_attempts")),
            "total_bytes": entry.size,
            "options": {"decrypt": decrypt.to_json()} if decrypt else {},
        }
        for entry in matches
    ]
    ids = ctx.queue.add_many(rows, batch)
    names = {item_id: entry.name for item_id, entry in zip(ids, matches, strict=True)}
    run_batch(ctx, batch, names, session=(conn, transport))  # the listing's session fetches the first file
    return report(ctx.queue.items(batch=batch), args.json)


def list_queue(args: argparse.Namespace) -> int:
    """Show queued, running and failed transfers (``--all``: finished ones too)."""
    ctx = open_app()
    states = None if args.all else [*ACTIVE, "failed"]
    items = ctx.queue.items(states)
    if args.json:
        print_json([item.to_json() for item in items])
        return 0
    if not items:
        print("The queue is empty.")
        return 0
    print_table(
        ["ID", "STATE", "TRIES", "CONNECTION", "DIR", "LOCAL", "REMOTE", "ERROR"],
        [
            [
                i.id,
                i.state,
                f"{i.attempts}/{i.max_attempts}",
                i.connection,
                i.direction,
                i.local_path,
                i.remote_path,
                i.error[:60],
            ]
            for i in items
        ],
    )
    return 0


def run_queue(_args: argparse.Namespace) -> int:
    """Process everything queued, including work a crashed process left; non-zero if any ended failed."""
    ctx = open_app()
    before = {item.id for item in ctx.queue.items(ACTIVE)}
    if not before:
        print("Nothing is queued.")
        return 0
    run_batch(ctx, batch=None, names={})  # type: ignore[arg-type]
    return report([i for i in ctx.queue.items() if i.id in before], as_json=False)


def retry_item(args: argparse.Namespace) -> int:
    """Queue a failed transfer again and run it now."""
    ctx = open_app()
    item = ctx.queue.retry(args.id)
    print(f"Transfer {item.id} queued again.")
    try:
        Engine(ctx, sink=TerminalProgress({})).run(batch=item.batch)
    except TransferAppError as exc:
        error(str(exc))
    return report([ctx.queue.get(item.id)], as_json=False)


def cancel_item(args: argparse.Namespace) -> int:
    """Cancel a transfer; a running one stops within seconds and its partial upload is removed."""
    ctx = open_app()
    before = cancel_transfer(ctx, args.id)
    waiting = before.state == "queued"
    print(f"Transfer {before.id} cancelled." + ("" if waiting else " It stops within a few seconds."))
    return 0
