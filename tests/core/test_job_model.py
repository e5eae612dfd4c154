"""Jobs in the config file: TOML round trips, validation errors that name the job, the key and the fix."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from transferapp.config import Config, Connection, load_config
from transferapp.encryption import EncryptPolicy
from transferapp.errors import ConfigError
from transferapp.jobs.model import JobSpec, job_from_toml, load_jobs, save_jobs
from transferapp.jobs.schedule import Schedule

FP_BANK = "A" * 40
FP_OMS = "0123456789ABCDEF" * 2 + "01234567"


def through_file(job: JobSpec) -> JobSpec:
    """Write the job's table as TOML text, read it back."""
    table = tomllib.loads(tomli_w.dumps({"job": job.to_toml()}))["job"]
    return job_from_toml(job.name, table, "config.toml")


def full_push(tmp_path: Path) -> JobSpec:
    return JobSpec(
        name="orders",
        kind="push",
        connection="pim",
        enabled=False,
        remote_dir="in/orders",
        schedule=Schedule.parse("0 2 * * *", window="01:00-05:00"),
        watch=tmp_path / "out",
        recursive=True,
        include=("*.xml", "*.csv"),
        exclude=("draft_*",),
        after="archive",
        archive_dir=tmp_path / "archive",
        failed_dir=tmp_path / "failed",
        stable_seconds=2.5,
        done_marker=".ok",
        polling=True,
        encryption=EncryptPolicy((FP_BANK, FP_OMS), sign=True, extension=".gpg", gzip=True),
    )


def full_pull(tmp_path: Path) -> JobSpec:
    return JobSpec(
        name="acks",
        kind="pull",
        connection="pim",
        enabled=False,
        remote_dir="/outbound/acks",
        schedule=Schedule.parse(every="15m", window="22:00-06:00"),
        pattern="ack_*.xml.pgp",
        target=tmp_path / "in",
        remote_after="archive",
        remote_archive="done",
        decrypt=True,
        verify_from=FP_OMS,
    )


def test_push_job_round_trips_every_field(tmp_path: Path) -> None:
    job = full_push(tmp_path)
    table = job.to_toml()
    assert table == {
        "kind": "push",
        "connection": "pim",
        "enabled": False,
        "remote_dir": "in/orders",
        "watch": str(tmp_path / "out"),
        "recursive": True,
        "include": ["*.xml", "*.csv"],
        "exclude": ["draft_*"],
        "after": "archive",
        "archive_dir": str(tmp_path / "archive"),
        "failed_dir": str(tmp_path / "failed"),
        "stable_seconds": 2.5,
        "done_marker": ".ok",
        "polling": True,
        "encryption": {
            "mode": "required",
            "recipients": [FP_BANK, FP_OMS],
            "sign": True,
            "extension": ".gpg",
            "gzip": True,
        },
        "schedule": "0 2 * * *",
        "window": "01:00-05:00",
    }
    assert through_file(job) == job


def test_pull_job_round_trips_every_field(tmp_path: Path) -> None:
    job = full_pull(tmp_path)
    table = job.to_toml()
    assert table == {
        "kind": "pull",
        "connection": "pim",
        "enabled": False,
        "remote_dir": "/outbound/acks",
        "pattern": "ack_*.xml.pgp",
        "target": str(tmp_path / "in"),
        "remote_after": "archive",
        "remote_archive": "done",
        "decrypt": True,
        "verify_from": FP_OMS,
        "every": "15m",
        "window": "22:00-06:00",
    }
    assert through_file(job) == job


def test_defaults_are_not_written(tmp_path: Path) -> None:
    push = JobSpec("orders", "push", "pim", watch=tmp_path)
    assert push.to_toml() == {"kind": "push", "connection": "pim", "watch": str(tmp_path)}
    assert through_file(push) == push
    pull = JobSpec("acks", "pull", "pim", target=tmp_path)
    assert pull.to_toml() == {"kind": "pull", "connection": "pim", "target": str(tmp_path)}
    assert through_file(pull) == pull


def test_shorthand_forms_are_normalised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    push = job_from_toml(
        "orders",
        {
            "kind": "push",
            "connection": "pim",
            "watch": "~/out/../out",
            "after": "archive:~/arch",
            "done_marker": "done",
            "include": "*.xml",
            "remote_dir": "/in/",
        },
        "config.toml",
    )
    assert (push.watch, push.after, push.archive_dir) == (tmp_path / "out", "archive", tmp_path / "arch")
    assert (push.done_marker, push.include, push.remote_dir) == (".done", ("*.xml",), "/in")
    pull = job_from_toml(
        "acks",
        {
            "kind": "pull",
            "connection": "pim",
            "target": str(tmp_path),
            "remote_after": "archive:/old/",
            "decrypt": True,
            "verify_from": " ".join([FP_OMS[i : i + 4].lower() for i in range(0, 40, 4)]),
        },
        "config.toml",
    )
    assert (pull.remote_after, pull.remote_archive, pull.verify_from) == ("archive", "/old", FP_OMS)


PUSH = {"kind": "push", "connection": "pim", "watch": "/data/out"}
PULL = {"kind": "pull", "connection": "pim", "target": "/data/in"}


@pytest.mark.parametrize(
    ("table", "key", "fix"),
    [
        ({"connection": "pim", "watch": "/data/out"}, "kind", "kind = 'push'"),
        ({**PUSH, "kind": "send"}, "kind", "kind = 'push'"),
        ({"kind": "push", "watch": "/data/out"}, "connection", "connection = 'NAME'"),
        ({"kind": "push", "connection": "pim"}, "watch", "add watch ="),
        ({"kind": "pull", "connection": "pim"}, "target", "add target ="),
        ({**PUSH, "watch": "data/out"}, "watch", "full path"),
        ({**PUSH, "folder": "/x"}, "unknown key 'folder'", "allowed keys"),
        ({**PUSH, "pattern": "*.xml"}, "'pattern' only applies to pull jobs", "remove the pattern line"),
        ({**PULL, "watch": "/data/out"}, "'watch' only applies to push jobs", "remove the watch line"),
        ({**PUSH, "after": "move"}, "after 'move'", "'archive:FOLDER'"),
        ({**PUSH, "after": "archive"}, "archive_dir", "after = 'archive:FOLDER'"),
        ({**PUSH, "after": "archive:"}, "after 'archive:' names no folder", "'archive:FOLDER'"),
        ({**PUSH, "after": "delete:/x"}, "after 'delete:/x'", "'archive:FOLDER'"),
        ({**PUSH, "archive_dir": "/data/arch"}, "archive_dir", "remove archive_dir"),
        ({**PUSH, "after": "archive:/a", "archive_dir": "/b"}, "given twice", "remove the archive_dir line"),
        ({**PUSH, "after": "archive:/data/out"}, "archive_dir /data/out is the watched folder", "outside /data/out"),
        ({**PUSH, "recursive": True, "after": "archive:/data/out/done"}, "inside the watched folder", "outside"),
        ({**PUSH, "recursive": True, "failed_dir": "/data/out/bad"}, "failed_dir", "a failed folder outside"),
        ({**PUSH, "stable_seconds": 0}, "stable_seconds", "stable_seconds = 5"),
        ({**PUSH, "stable_seconds": -1.5}, "stable_seconds", "stable_seconds = 5"),
        ({**PUSH, "stable_seconds": True}, "stable_seconds", "fix the stable_seconds line"),
        ({**PUSH, "stable_seconds": "5"}, "stable_seconds", "fix the stable_seconds line"),
        ({**PUSH, "done_marker": "a/b"}, "done_marker '.a/b'", "'.done'"),
        ({**PUSH, "done_marker": "."}, "done_marker", "'.done'"),
        ({**PUSH, "include": []}, "include", "include = ['*.xml']"),
        ({**PUSH, "include": [1]}, "include", "include = ['*.xml']"),
        ({**PUSH, "enabled": "yes"}, "enabled must be true or false", "fix the enabled line"),
        ({**PUSH, "schedule": "61 * * * *"}, "schedule '61 * * * *': minute", "five cron fields"),
        ({**PUSH, "every": "soon"}, "interval 'soon'", "'15m'"),
        ({**PUSH, "window": "25:00-01:00"}, "window '25:00-01:00'", "HH:MM-HH:MM"),
        ({**PUSH, "encryption": {"mode": "required"}}, "encryption: recipients", 'recipients = ["0123..."]'),
        ({**PULL, "remote_after": "bin"}, "remote_after 'bin'", "'archive:FOLDER'"),
        ({**PULL, "remote_after": "archive"}, "remote_archive", "remote_after = 'archive:REMOTE_FOLDER'"),
        ({**PULL, "remote_after": "archive:."}, "remote_archive is the pulled folder", "another remote folder"),
        ({**PULL, "pattern": "out/*.xml"}, "pattern 'out/*.xml'", "remote_dir"),
        ({**PULL, "verify_from": FP_OMS}, "verify_from needs decrypt", "set decrypt = true"),
        ({**PULL, "decrypt": True, "verify_from": "ABCD"}, "verify_from 'ABCD'", "40-digit fingerprint"),
    ],
)
def test_invalid_tables_name_the_job_key_and_fix(table: dict[str, Any], key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        job_from_toml("orders", table, "/home/m/config.toml")
    assert "job 'orders' in /home/m/config.toml" in caught.value.message
    assert key in caught.value.message
    assert fix in caught.value.hint


def test_invalid_job_name() -> None:
    with pytest.raises(ConfigError) as caught:
        job_from_toml("bad name", dict(PUSH), "config.toml")
    assert "job 'bad name'" in caught.value.message and "letters, digits" in caught.value.hint


@pytest.mark.parametrize(
    "table",
    [
        {**PUSH, "password": "hunter2"},
        {**PULL, "api_token": "abc"},
        {**PUSH, "Secret": "x"},
        {**PUSH, "encryption": {"recipients": [FP_BANK], "passphrase": "x"}},
    ],
)
def test_secret_looking_keys_are_refused(table: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        job_from_toml("orders", table, "config.toml")
    assert "job 'orders'" in caught.value.message
    assert "secrets must not be stored in the config file" in caught.value.message
    assert "delete that line" in caught.value.hint and "keyring" in caught.value.hint


def config_with_pim(path: Path) -> Config:
    conn = Connection("pim", "sftp://u@host:22/data", auth="key", key_file="/keys/id_ed25519")
    return Config(path, {"pim": conn})


def test_unknown_connection_names_job_and_connection(tmp_path: Path) -> None:
    config = config_with_pim(tmp_path / "config.toml")
    config.other["jobs"] = {"orders": {**PUSH, "connection": "oms"}}
    with pytest.raises(ConfigError) as caught:
        load_jobs(config)
    assert "job 'orders'" in caught.value.message and "connection 'oms'" in caught.value.message
    assert "known connections: pim" in caught.value.hint and "transferapp job remove orders" in caught.value.hint


@pytest.mark.parametrize("jobs", [["orders"], {"orders": "push"}])
def test_jobs_section_must_hold_tables(tmp_path: Path, jobs: Any) -> None:
    config = config_with_pim(tmp_path / "config.toml")
    config.other["jobs"] = jobs
    with pytest.raises(ConfigError, match="must be a table"):
        load_jobs(config)


def test_save_keeps_jobs_and_connections_together(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    config = config_with_pim(path)
    config.other["ui"] = {"theme": "dark"}  # another feature's section survives too
    jobs = {"orders": full_push(tmp_path), "acks": full_pull(tmp_path)}
    save_jobs(config, jobs)
    text = path.read_text()
    assert "[jobs.orders]" in text and "[jobs.acks]" in text and "[connections.pim]" in text
    loaded = load_config(path)
    assert loaded.connections == config.connections
    assert load_jobs(loaded) == jobs
    assert loaded.other["ui"] == {"theme": "dark"}
    loaded.connections["oms"] = Connection("oms", "sftp://o@oms:22/x", auth="agent")
    loaded.save()  # a connection change keeps the jobs
    again = load_config(path)
    assert load_jobs(again) == jobs and set(again.connections) == {"pim", "oms"}
    save_jobs(again, {})
    assert "jobs" not in path.read_text() and load_jobs(load_config(path)) == {}
    assert set(load_config(path).connections) == {"pim", "oms"}


def test_describe_is_json_ready(tmp_path: Path) -> None:
    push = full_push(tmp_path).describe()
    assert json.loads(json.dumps(push)) == push
    assert push["watch"] == str(tmp_path / "out") and push["include"] == ["*.xml", "*.csv"]
    assert push["schedule"] == "daily at 02:00, only 01:00-05:00"
    assert push["encryption"]["recipients"] == [FP_BANK, FP_OMS]
    assert "pattern" not in push and "target" not in push
    pull = full_pull(tmp_path).describe()
    assert json.loads(json.dumps(pull)) == pull
    assert (pull["target"], pull["schedule"], pull["verify_from"]) == (
        str(tmp_path / "in"),
        "every 15 min, only 22:00-06:00",
        FP_OMS,
    )
    assert "watch" not in pull and "encryption" not in pull
