"""Fill an installation home with merchant-style demo data: connections, jobs, queue rows, a transfer log.

Used by ``make screenshots`` and the GUI benchmarks; never touches a real server.
"""

from __future__ import annotations

import os
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

from transferapp.app import AppContext
from transferapp.encryption import EncryptPolicy
from transferapp.store.log import LogEntry

CONFIG = """\
[connections.pim-sftp]
url = "sftp://merchant@sftp.pim-partner.example:22/inbound/catalog"
auth = "key"
key_file = "{keys}/id_ed25519"
host_key = "SHA256:8Jm1Qb3bT0k1o3YyHq7o0wJx0s4v6m1e9d2Q5uN0c3A"

[connections.oms-sftp]
url = "sftp://acme@files.oms.example:2222/orders/in"
auth = "password"

[connections.crm-dav]
url = "webdavs://crm.example/dav/acme/customers"
auth = "token"

[connections.sfcc-staging]
url = "webdavs://staging-acme.demandware.net/on/demandware.servlet/webdav/Sites/Impex/src/feeds"
auth = "sfcc-client"
client_id = "a6b1c2d3-e4f5-4711-9abc-0123456789ab"

[jobs.catalog-to-pim]
kind = "push"
connection = "pim-sftp"
watch = "{exports}/catalog"
include = ["catalog_*.xml"]
after = "archive"
archive_dir = "{exports}/catalog/sent"

[jobs.orders-nightly]
kind = "push"
connection = "oms-sftp"
watch = "{exports}/orders"
include = ["orders_*.xml"]
schedule = "30 1 * * *"
window = "01:00-05:00"

[jobs.crm-returns]
kind = "pull"
connection = "crm-dav"
pattern = "returns_*.csv"
target = "{imports}/returns"
every = "15m"
"""

FILES = {
    "pim-sftp": ("up", "catalog_{d}_{n:03}.xml", 180_000, 9_000_000),
    "oms-sftp": ("up", "orders_{d}_{n:04}.xml", 20_000, 2_500_000),
    "crm-dav": ("down", "returns_{d}_{n:02}.csv", 4_000, 400_000),
    "sfcc-staging": ("up", "inventory_{d}_{n:02}.xml", 50_000, 30_000_000),
}
FAILURES = [
    (
        "Connection to files.oms.example:2222 timed out",
        "check the network and that the server is up; the transfer is retried automatically",
    ),
    (
        "customers_2026-12-01.csv holds 3 card numbers (411111******1111, 550000******0004, 340000*****0009); "
        "it was not sent",
        "encrypt it: set encryption on the connection, or turn the PCI guard off explicitly",
    ),
    ("Permission denied: /orders/in/archive", "ask the server's administrator for write access to that folder"),
]


def write_demo(ctx: AppContext, root: Path, log_rows: int = 2400, seed: int = 7) -> None:
    """Connections, jobs, queue rows in every state and ``log_rows`` log rows over the last weeks."""
    rng = random.Random(seed)
    exports, imports, keys = root / "exports", root / "imports", root / "ssh"
    for folder in (exports / "catalog" / "sent", exports / "orders", imports / "returns", keys):
        folder.mkdir(parents=True, exist_ok=True)
    (keys / "id_ed25519").write_text("demo key file: not a real key\n")
    ctx.paths.config_file.write_text(CONFIG.format(exports=exports, imports=imports, keys=keys))
    ctx.reload_config()
    write_log(ctx, rng, log_rows)
    write_queue(ctx, exports)
    write_keys(ctx, root / "gpg-export")


def write_keys(ctx: AppContext, folder: Path) -> list[str]:
    """Partner keys made by GnuPG (one expiring soon) in the key store; none when gpg is missing."""
    from support.gnupg import GnupgHome, gpg_available

    if not gpg_available():
        return []
    import pysequoia

    folder.mkdir(parents=True, exist_ok=True)
    home = GnupgHome()
    store = ctx.keys()
    saved = []
    try:
        for uid, algo, expire in (
            ("OMS Payments <pgp@oms.example>", "rsa3072", None),
            ("PIM Partner <security@pim-partner.example>", "cv25519", None),
            ("CRM Import <crm-import@crm.example>", "cv25519", "20d"),
        ):
            fingerprint = home.make_key(uid, algo, expire=expire or "never")
            exported = home.export(fingerprint, folder / f"{fingerprint}.asc")
            saved.append(store.save_public(pysequoia.Cert.from_bytes(exported.read_bytes())).fingerprint)
    finally:
        home.stop()
    ctx.config.connections["oms-sftp"].encryption = EncryptPolicy(recipients=(saved[0],))
    ctx.config.save()
    return saved


def write_log(ctx: AppContext, rng: random.Random, rows: int) -> None:
    """Log rows, oldest first, with a valid hash chain."""
    start = datetime.now().astimezone() - timedelta(days=21)
    step = timedelta(days=21) / max(rows, 1)
    with ctx.db.transaction() as conn:
        for i in range(rows):
            name = rng.choice(list(FILES))
            direction, pattern, low, high = FILES[name]
            at = start + step * i
            failed = rng.random() < 0.04
            error, hint = rng.choice(FAILURES) if failed else ("", "")
            size = rng.randint(low, high)
            file = pattern.format(d=at.strftime("%Y-%m-%d"), n=i % 1000)
            local = f"/srv/exports/{file}" if direction == "up" else f"/srv/imports/{file}"
            entry = LogEntry(
                id=None,
                at=at.isoformat(timespec="seconds"),
                connection=name,
                direction=direction,
                local_path=local,
                remote_path=f"/{file}",
                status="failed" if failed else "ok",
                bytes=0 if failed else size,
                sha256="" if failed else f"{rng.getrandbits(256):064x}",
                duration=round(size / rng.uniform(4e6, 40e6), 2),
                error=error + (f" ({hint})" if hint else ""),
                transfer_id=i + 1,
                attempt=1,
                details={"hint": hint} if hint else {"encrypted": name == "oms-sftp"},
            )
            ctx.log.append(entry, conn)


def write_queue(ctx: AppContext, exports: Path) -> None:
    """Transfers in each state: done, running, queued, retrying, failed (PCI guard), cancelled."""
    now = time.time()
    rows = []
    specs = [
        ("pim-sftp", "catalog_2026-12-04_full.xml", 48_000_000),
        ("oms-sftp", "orders_2026-12-04_0001.xml", 2_100_000),
        ("oms-sftp", "orders_2026-12-04_0002.xml", 1_800_000),
        ("sfcc-staging", "inventory_2026-12-04.xml", 26_000_000),
        ("crm-dav", "customers_2026-12-04.csv", 740_000),
        ("pim-sftp", "catalog_2026-12-03_delta.xml", 3_400_000),
    ]
    for connection, name, size in specs:
        path = exports / name
        path.write_bytes(b"\0" * 16)
        rows.append({"connection": connection, "direction": "up", "local_path": str(path), "remote_path": name,
                     "total_bytes": size})  # fmt: skip
    ids = ctx.queue.add_many(rows, "demo")
    states = [  # fmt: skip
        {
            "state": "running",
            "done_bytes": 29_500_000,
            "attempts": 1,
            "owner_pid": os.getpid(),
            "lease_until": now + 600,
        },
        {"state": "queued"},
        {"state": "queued"},
        {
            "state": "queued",
            "attempts": 2,
            "next_attempt_at": now + 40,
            "error": FAILURES[0][0],
            "hint": FAILURES[0][1],
        },
        {"state": "failed", "attempts": 1, "error": FAILURES[1][0], "hint": FAILURES[1][1]},
        {"state": "done", "done_bytes": 3_400_000, "attempts": 1},
    ]
    for item_id, fields in zip(ids, states, strict=True):
        ctx.queue.update(item_id, **fields)
