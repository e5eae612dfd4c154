"""``transferapp job ...`` end to end: jobs added, shown, switched and removed through the real command line."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from support.cli import Cli
from support.gnupg import GnupgHome, gpg_available
from support.keyring_session import KeyringSession
from support.sshd import SshdServer

OWN_PASSPHRASE = "job test pass phrase"


@dataclass
class PgpFiles:
    """A partner's public key and an own secret key, made by gpg."""

    partner: str
    partner_file: Path
    own: str
    own_file: Path


@pytest.fixture(scope="module")
def pgp_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgpFiles]:
    if not gpg_available():
        pytest.skip("GnuPG (gpg) is not installed")
    home = GnupgHome()
    folder = tmp_path_factory.mktemp("job-keys")
    try:
        partner = home.make_key("Partner <pgp@partner.example>")
        own = home.make_key("Merchant <pgp@shop.example>", passphrase=OWN_PASSPHRASE)
        yield PgpFiles(
            partner,
            home.export(partner, folder / "partner.asc"),
            own,
            home.export_secret(own, folder / "own.sec.asc", OWN_PASSPHRASE),
        )
    finally:
        home.stop()


@pytest.fixture
def cli(ta_home: Path, keyring_session: KeyringSession) -> Cli:
    return Cli(ta_home, keyring_session.child_env())


@pytest.fixture
def pim(cli: Cli, tmp_path: Path) -> Cli:
    """A connection named 'pim' (no server needed: nothing here connects)."""
    key = tmp_path / "id_ed25519"
    key.write_text("not used: no command here connects\n")
    cli.ok("connection", "add", "pim", "--url", "sftp://u@127.0.0.1:2222/tmp", "--key-file", str(key),
           "--accept-host-key", "SHA256:" + "A" * 43)  # fmt: skip
    return cli


@pytest.fixture
def with_keys(pim: Cli, pgp_files: PgpFiles) -> Cli:
    pim.ok("key", "import", str(pgp_files.partner_file), "--yes")
    pim.ok("key", "import-secret", str(pgp_files.own_file), "--passphrase-stdin", "--yes", stdin=OWN_PASSPHRASE + "\n")
    return pim


def config_file(cli: Cli) -> Path:
    return cli.home / "config" / "config.toml"


def config_jobs(cli: Cli) -> dict:
    """The [jobs] tables of the config file (written by the 'pim' fixture already)."""
    return tomllib.loads(config_file(cli).read_text()).get("jobs", {})


def show(cli: Cli, name: str) -> dict:
    return json.loads(cli.ok("job", "show", name, "--json").out)


def test_push_job_with_every_flag(with_keys: Cli, pgp_files: PgpFiles, tmp_path: Path) -> None:
    watch, archive, failed = tmp_path / "out", tmp_path / "archive", tmp_path / "failed"
    watch.mkdir()
    added = with_keys.ok(
        "job", "add", "orders", "--push", "--watch", str(watch), "--to", "pim", "--remote-dir", "/in/orders/",
        "--include", "*.xml", "--include", "*.csv", "--exclude", "draft_*", "--after", f"archive:{archive}",
        "--stable-seconds", "2", "--done-marker", "done", "--schedule", "0 2 * * *", "--window", "01:00-05:00",
        "--encrypt-to", pgp_files.partner[-16:], "--sign", "--gzip", "--pgp-ext", ".gpg", "--recursive",
        "--polling", "--failed-dir", str(failed), "--disabled",
    ).out  # fmt: skip
    assert "Added push job 'orders'" in added and "it is disabled" in added
    assert not archive.exists() and not failed.exists()  # nothing is created for a push job
    assert show(with_keys, "orders") == {
        "name": "orders",
        "kind": "push",
        "enabled": False,
        "connection": "pim",
        "remote_dir": "/in/orders",
        "schedule": "daily at 02:00, only 01:00-05:00",
        "schedule_settings": {"schedule": "0 2 * * *", "window": "01:00-05:00"},
        "watch": str(watch),
        "recursive": True,
        "include": ["*.xml", "*.csv"],
        "exclude": ["draft_*"],
        "after": "archive",
        "archive_dir": str(archive),
        "failed_dir": str(failed),
        "stable_seconds": 2.0,
        "done_marker": ".done",
        "polling": True,
        "encryption": {"recipients": [pgp_files.partner], "sign": True, "extension": ".gpg", "gzip": True},
    }
    stored = config_jobs(with_keys)["orders"]
    assert stored["watch"] == str(watch) and stored["archive_dir"] == str(archive)
    assert stored["encryption"]["mode"] == "required" and stored["encryption"]["recipients"] == [pgp_files.partner]
    text = with_keys.ok("job", "show", "orders").out
    assert f"watch:          {watch}" in text and "*.xml, *.csv" in text and pgp_files.partner in text


def test_push_job_defaults_and_interval(pim: Cli, tmp_path: Path) -> None:
    watch = tmp_path / "exports"
    watch.mkdir()
    pim.ok(
        "job", "add", "catalog", "--push", "--watch", str(watch), "--to", "pim", "--every", "15m", "--after", "delete"
    )
    info = show(pim, "catalog")
    assert (info["enabled"], info["include"], info["exclude"], info["after"]) == (True, ["*"], [], "delete")
    assert (info["schedule"], info["stable_seconds"], info["encryption"]) == ("every 15 min", 5.0, None)
    assert config_jobs(pim)["catalog"] == {
        "kind": "push", "connection": "pim", "watch": str(watch), "after": "delete", "every": "15m",
    }  # fmt: skip


def test_pull_job_with_every_flag(with_keys: Cli, pgp_files: PgpFiles, tmp_path: Path) -> None:
    target = tmp_path / "in" / "acks"
    added = with_keys.ok(
        "job", "add", "acks", "--pull", "--from", "pim", "--pattern", "ack_*.xml.pgp", "--to", str(target),
        "--remote-dir", "out", "--remote-after", "archive:done", "--schedule", "*/30 * * * *",
        "--window", "22:00-06:00", "--decrypt", "--verify-from", pgp_files.partner[-16:], "--disabled",
    ).out  # fmt: skip
    assert target.is_dir() and f"Created the folder {target}" in added
    assert show(with_keys, "acks") == {
        "name": "acks",
        "kind": "pull",
        "enabled": False,
        "connection": "pim",
        "remote_dir": "out",
        "schedule": "cron '*/30 * * * *', only 22:00-06:00",
        "schedule_settings": {"schedule": "*/30 * * * *", "window": "22:00-06:00"},
        "pattern": "ack_*.xml.pgp",
        "target": str(target),
        "remote_after": "archive",
        "remote_archive": "done",
        "decrypt": True,
        "verify_from": pgp_files.partner,
    }
    with_keys.ok("job", "add", "returns", "--pull", "--from", "pim", "--pattern", "ret_*", "--to", str(target),
                 "--remote-after", "delete", "--every", "1h")  # fmt: skip
    assert config_jobs(with_keys)["returns"] == {
        "kind": "pull", "connection": "pim", "pattern": "ret_*", "target": str(target), "remote_after": "delete",
        "every": "1h",
    }  # fmt: skip


def test_list_enable_disable_remove(pim: Cli, tmp_path: Path) -> None:
    assert "No jobs yet" in pim.ok("job", "list").out
    assert json.loads(pim.ok("job", "list", "--json").out) == []
    (tmp_path / "out").mkdir()
    pim.ok("job", "add", "orders", "--push", "--watch", str(tmp_path / "out"), "--to", "pim", "--schedule", "0 2 * * *")
    pim.ok("job", "add", "acks", "--pull", "--from", "pim", "--pattern", "ack_*", "--to", str(tmp_path / "in"),
           "--remote-dir", "out")  # fmt: skip
    lines = pim.ok("job", "list").out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "ENABLED", "CONNECTION", "FOLDER/PATTERN", "SCHEDULE"]
    assert lines[1].split() == ["acks", "pull", "yes", "pim", "out/ack_*", "-"]
    assert lines[2].split() == ["orders", "push", "yes", "pim", str(tmp_path / "out"), "daily", "at", "02:00"]
    listed = json.loads(pim.ok("job", "list", "--json").out)
    assert [(j["name"], j["kind"], j["enabled"]) for j in listed] == [("acks", "pull", True), ("orders", "push", True)]

    assert "is disabled" in pim.ok("job", "disable", "orders").out
    assert show(pim, "orders")["enabled"] is False and config_jobs(pim)["orders"]["enabled"] is False
    assert "already disabled" in pim.ok("job", "disable", "orders").out
    pim.ok("job", "enable", "orders")
    assert show(pim, "orders")["enabled"] is True and "enabled" not in config_jobs(pim)["orders"]

    pim.ok("job", "remove", "acks")
    assert list(config_jobs(pim)) == ["orders"] and (tmp_path / "in").is_dir()  # the folder is left alone
    for action in ("show", "remove", "enable", "disable"):
        missing = pim("job", action, "acks")
        assert missing.code == 1 and "No job named 'acks'" in missing.err and "orders" in missing.err
    pim.ok("job", "remove", "orders")
    assert config_jobs(pim) == {} and "[connections.pim]" in config_file(pim).read_text()


def test_remove_a_job_whose_connection_is_gone(pim: Cli, tmp_path: Path) -> None:
    pim.ok("job", "add", "acks", "--pull", "--from", "pim", "--pattern", "*", "--to", str(tmp_path / "in"))
    refused = pim("connection", "remove", "pim")
    assert refused.code == 1 and "used by job(s) acks" in refused.err
    config = pim.home / "config" / "config.toml"  # a hand edit can still remove it
    import tomllib

    import tomli_w

    document = tomllib.loads(config.read_text())
    del document["connections"]["pim"]
    config.write_text(tomli_w.dumps(document))
    broken = pim("job", "list")
    assert broken.code == 1 and "job 'acks'" in broken.err and "connection 'pim'" in broken.err
    assert "transferapp job remove acks" in broken.err
    pim.ok("job", "remove", "acks")
    assert pim.ok("job", "list").out.startswith("No jobs yet")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--push", "--watch", "{tmp}/missing", "--to", "pim"], "The watch folder {tmp}/missing does not exist"),
        (["--push", "--watch", "{tmp}/out", "--to", "nope"], "No connection named 'nope' (known connections: pim"),
        (["--pull", "--from", "nope", "--pattern", "*", "--to", "{tmp}/in"], "No connection named 'nope'"),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--schedule", "0 25 * * *"], "hour must be 0-23"),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--schedule", "0 2 * * *", "--every", "1h"], "both given"),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--window", "01:00"], "Invalid window '01:00'"),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--after", "move"], "--after 'move' is not one of"),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--after", "archive"], "--after archive needs a folder"),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--after", "archive:{tmp}/out"], "is the watched folder"),
        (
            ["--push", "--watch", "{tmp}/out", "--to", "pim", "--recursive", "--after", "archive:{tmp}/out/done"],
            "is inside the watched folder",
        ),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--stable-seconds", "0"], "stable_seconds must be more"),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--done-marker", "a/b"], "is not a file-name suffix"),
        (["--push", "--watch", "{tmp}/out", "--to", "pim", "--pattern", "*.xml"], "--pattern only applies to pull"),
        (
            ["--pull", "--from", "pim", "--pattern", "*", "--to", "{tmp}/in", "--watch", "{tmp}/out"],
            "--watch only applies to push jobs",
        ),
        (["--pull", "--from", "pim", "--to", "{tmp}/in"], "A pull job needs --from CONN and --pattern GLOB"),
        (
            ["--pull", "--from", "pim", "--pattern", "*", "--to", "{tmp}/in", "--verify-from", "AB" * 20],
            "--verify-from only applies with --decrypt",
        ),
        (["--pull", "--from", "pim", "--pattern", "*", "--to", "{tmp}/in", "--decrypt"], "needs an own secret key"),
        (
            ["--pull", "--from", "pim", "--pattern", "*", "--to", "{tmp}/in", "--remote-after", "archive:."],
            "remote_archive is the pulled folder",
        ),
    ],
)
def test_add_refusals_save_and_create_nothing(pim: Cli, tmp_path: Path, flags: list[str], message: str) -> None:
    (tmp_path / "out").mkdir()
    result = pim("job", "add", "orders", *(f.replace("{tmp}", str(tmp_path)) for f in flags))
    assert result.code == 1, result
    assert message.replace("{tmp}", str(tmp_path)) in result.err
    assert len(result.err.strip().splitlines()) == 1  # one line, no traceback
    assert config_jobs(pim) == {}
    assert not (tmp_path / "missing").exists() and not (tmp_path / "in").exists()


def test_duplicate_and_invalid_names_and_kind_flags(pim: Cli, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    pim.ok("job", "add", "orders", "--push", "--watch", str(tmp_path / "out"), "--to", "pim")
    before = config_jobs(pim)
    again = pim("job", "add", "orders", "--pull", "--from", "pim", "--pattern", "*", "--to", str(tmp_path / "in"))
    assert again.code == 1 and "A job named 'orders' already exists" in again.err
    assert config_jobs(pim) == before and not (tmp_path / "in").exists()
    bad = pim("job", "add", "my orders", "--push", "--watch", str(tmp_path / "out"), "--to", "pim")
    assert bad.code == 1 and "Invalid name 'my orders'" in bad.err
    neither = pim("job", "add", "x", "--watch", str(tmp_path / "out"), "--to", "pim")
    assert neither.code == 2 and "one of the arguments --push --pull is required" in neither.err
    both = pim("job", "add", "x", "--push", "--pull", "--to", "pim")
    assert both.code == 2 and "not allowed with argument" in both.err


def test_encrypt_to_unknown_key_is_refused(pim: Cli, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = pim("job", "add", "orders", "--push", "--watch", str(tmp_path / "out"), "--to", "pim",
                 "--encrypt-to", "AB" * 20)  # fmt: skip
    assert result.code == 1 and "No imported OpenPGP key matches" in result.err
    assert config_jobs(pim) == {}


def test_agent_and_job_commands_are_registered(cli: Cli) -> None:
    top = cli.ok("--help").out
    assert "job" in top and "agent" in top
    agent = cli.ok("agent", "--help").out
    assert "--foreground" in agent and "run the enabled jobs" in cli.ok("--help").out


def test_job_run_sends_and_archives_once(cli: Cli, sshd: SshdServer, tmp_path: Path) -> None:
    remote = sshd.make_remote_dir("job-run")
    cli.ok("connection", "add", "pim", "--url", f"sftp://{sshd.user}@127.0.0.1:{sshd.port}{remote}",
           "--key-file", str(sshd.client_keys["ed25519"]),
           "--accept-host-key", sshd.host_key_fingerprints["ssh-ed25519"])  # fmt: skip
    watch, archive = tmp_path / "out", tmp_path / "archive"
    watch.mkdir()
    (watch / "orders_1.xml").write_text("<orders/>\n")
    (watch / "notes.txt").write_text("not sent\n")
    cli.ok("job", "add", "orders", "--push", "--watch", str(watch), "--to", "pim", "--remote-dir", "in",
           "--include", "*.xml", "--after", f"archive:{archive}", "--stable-seconds", "0.2")  # fmt: skip
    cli.ok("job", "run", "orders", timeout=120)
    assert (remote / "in" / "orders_1.xml").read_text() == "<orders/>\n"
    assert (archive / date.today().isoformat() / "orders_1.xml").read_text() == "<orders/>\n"
    assert sorted(p.name for p in watch.iterdir()) == ["notes.txt"]
