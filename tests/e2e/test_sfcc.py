"""Salesforce B2C Commerce end to end: the CLI against a stand-in instance (WsgiDAV over HTTPS) and Account Manager."""

from __future__ import annotations

import json
import os
import re
import ssl
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import random_file, sha256, sparse_file
from support.cli import Cli, CliResult
from support.keyring_session import KeyringSession
from support.sfcc_server import SITES, SfccServer
from support.token_server import TokenServer
from support.wsgidav_server import make_tls

from transferapp.publish import part_name

CLIENT, SECRET = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "client s3cret"
BM_USER, ACCESS_KEY = "bm.user@example.com", "bm-access-key-123"
FOLDER = "Impex/src/catalog"
REMOTE = f"{SITES}/{FOLDER}"
MB = 1_000_000


@pytest.fixture
def cli(ta_home: Path, keyring_session: KeyringSession) -> Cli:
    return Cli(ta_home, keyring_session.child_env())


@pytest.fixture
def tokens() -> Iterator[TokenServer]:
    with TokenServer(CLIENT, SECRET) as server:
        yield server


@pytest.fixture
def instance(tmp_path: Path, tokens: TokenServer) -> Iterator[SfccServer]:
    server = SfccServer(tmp_path / "instance", tokens, make_tls(tmp_path / "tls"), {BM_USER: ACCESS_KEY})
    server.start()
    server.folder(FOLDER).mkdir(parents=True)
    try:
        yield server
    finally:
        server.stop()


def add_client(cli: Cli, instance: SfccServer, tokens: TokenServer, *extra: str, secret: str = SECRET) -> None:
    cli.ok("connection", "add", "sfcc", "--sfcc-instance", instance.instance, "--sfcc-folder", FOLDER,
           "--sfcc-client-id", CLIENT, "--client-secret-stdin", "--token-url", tokens.url,
           "--ca-file", str(instance.tls.ca_file), *extra, stdin=secret + "\n")  # fmt: skip


def catalog(folder: Path, name: str = "catalog_master.xml", size: int = 20_000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"<catalog>" + os.urandom(size) + b"</catalog>")
    return path


def log_rows(cli: Cli) -> list[dict[str, Any]]:
    """Log rows, oldest first."""
    return list(reversed(json.loads(cli.ok("log", "--json", "--limit", "1000").out)))


def one_line(result: CliResult) -> str:
    lines = result.err.strip().splitlines()
    assert result.code == 1 and len(lines) == 1, f"expected one error line, got exit {result.code}: {result.err!r}"
    return lines[0]


def bearer_tokens(instance: SfccServer) -> list[str]:
    """The bearer tokens the instance was sent, in order."""
    headers = [r.headers.get("authorization", "") for r in instance.requests]
    return [h[7:] for h in headers if h.startswith("Bearer ")]


def leftovers(instance: SfccServer) -> list[str]:
    """Temporary and archive files left in the catalog folder."""
    return sorted(p.name for p in instance.folder(FOLDER).iterdir() if p.name.endswith((".part", ".zip")))


def test_api_client_test_and_send_with_one_token(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    add_client(cli, instance, tokens)
    tested = cli.ok("connection", "test", "sfcc").out.splitlines()
    assert len(tested) == 3 and f"remote folder {REMOTE} is writable" in tested[2]
    assert tokens.requests == 1
    files = [catalog(tmp_path / "out", f"catalog_{i}.xml", 300_000 * i) for i in range(4)]
    cli.ok("send", *map(str, files), "--to", "sfcc")
    assert tokens.requests == 2, "one token for the whole run, shared by its sessions"
    for path in files:
        assert sha256(instance.folder(FOLDER) / path.name) == sha256(path)
    assert leftovers(instance) == []
    assert {r.status for r in instance.requests} <= {200, 201, 204, 207}, "no request was refused"
    assert set(bearer_tokens(instance)) == set(tokens.issued) and len(bearer_tokens(instance)) == len(instance.requests)
    assert [r["status"] for r in log_rows(cli)] == ["ok"] * 4, [(r["status"], r["error"]) for r in log_rows(cli)]


def test_revoked_token_is_refreshed_once_on_401(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    add_client(cli, instance, tokens)
    source = catalog(tmp_path, size=3 * MB)
    instance.revoke_before = "PUT"  # the token the run holds stops working just before the upload
    cli.ok("send", str(source), "--to", "sfcc")
    assert tokens.requests == 2, "one token, then one more after the 401"
    assert [r.status for r in instance.seen("PUT")] == [401, 201], "the upload was sent again with the new token"
    assert sha256(instance.folder(FOLDER) / source.name) == sha256(source)
    assert [r["status"] for r in log_rows(cli)] == ["ok"]
    tokens.revoke_all()  # between runs: the next process fetches its own token anyway
    cli.ok("send", str(source), "--to", "sfcc", "--remote-dir", "again")
    assert tokens.requests == 3 and (instance.folder(FOLDER) / "again" / source.name).exists()


def test_token_is_renewed_before_it_expires_within_one_run(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    add_client(cli, instance, tokens)
    tokens.lifetime = 61  # renewed 60 s early: a token older than one second is renewed before use
    source = catalog(tmp_path)
    info = source.stat()
    instance.tweaks.once[("PUT", part_name(f"{REMOTE}/{source.name}", info.st_size, info.st_mtime_ns))] = 503
    cli.ok("send", str(source), "--to", "sfcc")  # the retry waits at least one second
    used = bearer_tokens(instance)
    assert tokens.requests >= 2 and used[0] != used[-1], "the run renewed its token before it expired"
    assert 401 not in {r.status for r in instance.requests}, "renewed ahead of time, not after a refusal"
    assert [r["status"] for r in log_rows(cli)] == ["retry", "ok"]
    assert sha256(instance.folder(FOLDER) / source.name) == sha256(source)


def test_wrong_client_secret_is_refused_once(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    add_client(cli, instance, tokens, secret="not the secret")
    line = one_line(cli("connection", "test", "sfcc"))
    assert f"refused API client {CLIENT}" in line and "--client-secret-stdin" in line
    assert tokens.requests == 1
    files = [catalog(tmp_path, f"catalog_{i}.xml") for i in range(3)]
    started = time.monotonic()
    result = cli("send", *map(str, files), "--to", "sfcc")
    assert result.code == 1 and time.monotonic() - started < 15
    lines = result.err.strip().splitlines()
    assert len(lines) == 3 and all(f"refused API client {CLIENT}" in line for line in lines)
    assert tokens.requests == 2, "the token endpoint was asked once for the three files"
    assert instance.requests == [], "nothing was sent to the instance without a token"
    assert [r["status"] for r in log_rows(cli)] == ["failed"] * 3
    assert "not the secret" not in result.err + line


def test_files_over_100_mb_are_refused_before_sending(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    add_client(cli, instance, tokens)
    big = sparse_file(tmp_path / "catalog_full.xml", 150 * MB)
    started = time.monotonic()
    line = one_line(cli("send", str(big), "--to", "sfcc"))
    assert time.monotonic() - started < 10 and "100 MB" in line and "zip" in line and "150.0 MB" in line
    assert instance.seen("PUT") == [], "refused before any upload"
    assert [r["status"] for r in log_rows(cli)] == ["failed"]
    assert os.listdir(instance.folder(FOLDER)) == []


def check_unzipped(instance: SfccServer, source: Path) -> None:
    """The instance unzipped NAME.zip (holding NAME) in the folder, and only the file itself is left."""
    archive = f"{REMOTE}/{source.name}.zip"
    assert instance.unzipped == [(archive, [source.name])]
    assert [r.path for r in instance.seen("POST")] == [archive]
    assert sha256(instance.folder(FOLDER) / source.name) == sha256(source)
    assert leftovers(instance) == [], "the archive was deleted after the unzip"
    assert all(int(r.headers.get("content-length", "0")) <= 100 * MB for r in instance.seen("PUT"))


def test_zip_upload_is_unzipped_on_the_instance(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    add_client(cli, instance, tokens, "--zip-upload")
    source = catalog(tmp_path, "catalog ä 1.xml", 2 * MB)
    cli.ok("send", str(source), "--to", "sfcc")
    check_unzipped(instance, source)
    rows = log_rows(cli)
    assert [(r["status"], r["remote_path"]) for r in rows] == [("ok", f"{REMOTE}/{source.name}")]
    assert rows[0]["sha256"] == sha256(source) and rows[0]["bytes"] == source.stat().st_size
    assert list(cli.home.rglob("*.zip")) == [], "the local archive was removed"


def test_zip_upload_takes_a_150_mb_file_that_compresses(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    add_client(cli, instance, tokens, "--zip-upload")
    big = sparse_file(tmp_path / "catalog_full.xml", 150 * MB)
    cli.ok("send", str(big), "--to", "sfcc", timeout=60)
    check_unzipped(instance, big)


def test_zip_upload_of_a_file_that_does_not_compress_below_the_limit(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    add_client(cli, instance, tokens, "--zip-upload")
    noise = random_file(tmp_path_factory, 100)  # 104.9 MB of random bytes: its zip is as large
    line = one_line(cli("send", str(noise), "--to", "sfcc", timeout=60))
    assert instance.seen("PUT") == [] and list(cli.home.rglob("*.zip")) == []
    assert "100 MB" in line and f"{noise.name} is" in line
    assert not re.search(r"[0-9a-f]{32}-", line), f"the spool archive's name is shown: {line}"
    assert "option zip_upload" not in line, f"the hint asks for the option that is already on: {line}"


def test_business_manager_user_with_access_key(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    cli.ok("connection", "add", "bm", "--sfcc-instance", instance.instance, "--sfcc-folder", FOLDER,
           "--sfcc-user", BM_USER, "--password-stdin", "--ca-file", str(instance.tls.ca_file),
           stdin=ACCESS_KEY + "\n")  # fmt: skip
    shown = json.loads(cli.ok("connection", "show", "bm", "--json").out)
    assert shown["auth"] == "password" and shown["options"]["max_upload_mb"] == 100
    cli.ok("connection", "test", "bm")
    source = catalog(tmp_path)
    cli.ok("send", str(source), "--to", "bm")
    assert sha256(instance.folder(FOLDER) / source.name) == sha256(source)
    signed = [r.headers.get("authorization", "") for r in instance.requests if r.status != 401]
    assert signed and all(h.startswith("Basic ") for h in signed)
    assert tokens.requests == 0
    cli.ok("connection", "passwd", "bm", "--password-stdin", stdin="an-old-key\n")
    line = one_line(cli("send", str(source), "--to", "bm"))
    assert "refused the login" in line and "connection passwd bm --password-stdin" in line


def test_missing_ca_file_of_an_api_client_is_named(
    cli: Cli, instance: SfccServer, tokens: TokenServer, tmp_path: Path
) -> None:
    add_client(cli, instance, tokens)
    config = cli.home / "config" / "config.toml"
    missing = tmp_path / "moved-ca.pem"
    config.write_text(config.read_text().replace(str(instance.tls.ca_file), str(missing)))
    result = cli("connection", "test", "sfcc")
    assert "Traceback" not in result.err
    assert "moved-ca.pem" in one_line(result) and "--ca-file" in result.err
    line = one_line(cli("send", str(catalog(tmp_path)), "--to", "sfcc"))
    assert "moved-ca.pem" in line and "Internal error" not in line


def test_stand_in_unzips_only_safe_archives_for_logged_in_users(instance: SfccServer, tmp_path: Path) -> None:
    """The stand-in itself: UNZIP needs a login, and an archive with a member outside its folder is refused."""
    archive = instance.folder(FOLDER) / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../escaped.txt", "x")
    url = f"https://{instance.instance}{REMOTE}/evil.zip"
    form = {"method": "UNZIP"}
    with httpx.Client(verify=ssl.create_default_context(cafile=str(instance.tls.ca_file))) as client:
        assert client.post(url, data=form).status_code == 401
        assert client.post(url, data=form, auth=(BM_USER, ACCESS_KEY)).status_code == 400
    assert not (instance.folder("Impex/src") / "escaped.txt").exists() and instance.unzipped == []
