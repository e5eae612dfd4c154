"""Jobs in the config file: push jobs (a watched folder to a connection) and pull jobs (remote files to a folder).

A job is a ``[jobs.NAME]`` table next to ``[connections.NAME]``; paths are stored as absolute strings, only
values that differ from the defaults are written, and secrets never appear (jobs log in as their connection).
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from transferapp.config import SECRET_WORDS, Config, validate_name
from transferapp.encryption import EncryptPolicy, policy_from_toml, policy_to_toml
from transferapp.errors import ConfigError
from transferapp.jobs.schedule import Schedule

PUSH_AFTER = ("keep", "delete", "archive")
PULL_AFTER = ("keep", "delete", "archive")
KINDS = ("push", "pull")
COMMON_KEYS = ("kind", "connection", "enabled", "remote_dir", "schedule", "every", "window")
PUSH_KEYS = ("watch", "recursive", "include", "exclude", "after", "archive_dir", "failed_dir", "stable_seconds",
             "done_marker", "polling", "encryption")  # fmt: skip
PULL_KEYS = ("pattern", "target", "remote_after", "remote_archive", "decrypt", "verify_from")
MARKER_PATTERN = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
FINGERPRINT_PATTERN = re.compile(r"^(?:[0-9A-F]{40}|[0-9A-F]{64})$")


@dataclass
class JobSpec:
    """One job as configured: what to move, between which folder and connection, when, and what happens after."""

    name: str
    kind: str  # "push" or "pull"
    connection: str
    enabled: bool = True
    remote_dir: str = ""  # under the connection's folder ('' = the folder itself) or absolute
    schedule: Schedule | None = None
    # push
    watch: Path | None = None
    recursive: bool = False
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    after: str = "keep"  # keep | delete | archive
    archive_dir: Path | None = None  # for after == "archive" (files go to archive_dir/YYYY-MM-DD/name)
    failed_dir: Path | None = None  # files refused for good (e.g. PCI guard) are moved here
    stable_seconds: float = 5.0
    done_marker: str | None = None  # ".done" or ".ok" (normalised to start with '.')
    polling: bool = False  # poll instead of OS events (network shares)
    encryption: EncryptPolicy | None = None
    # pull
    pattern: str = "*"
    target: Path | None = None
    remote_after: str = "keep"  # keep | delete | archive
    remote_archive: str = ""  # remote folder for remote_after == "archive": under the pulled folder, or absolute
    decrypt: bool = False
    verify_from: str | None = None  # fingerprint

    def to_toml(self) -> dict[str, Any]:
        """The ``[jobs.NAME]`` table: kind and connection, then only the values that differ from the defaults."""
        table: dict[str, Any] = {"kind": self.kind, "connection": self.connection}
        defaults = {f.name: f.default for f in fields(self)}
        for key in (*COMMON_KEYS[2:4], *(PUSH_KEYS if self.kind == "push" else PULL_KEYS)):
            value = getattr(self, key)
            if value == defaults[key]:
                continue
            table[key] = policy_to_toml(value) if key == "encryption" else _plain(value)
        if self.schedule is not None:
            table.update(self.schedule.to_toml())
        return table

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary (``job show/list --json``): paths as text, the schedule in words."""
        info: dict[str, Any] = {k: getattr(self, k) for k in ("name", "kind", "enabled", "connection", "remote_dir")}
        info["schedule"] = self.schedule.describe() if self.schedule else None
        info["schedule_settings"] = self.schedule.to_toml() if self.schedule else {}
        for key in PUSH_KEYS if self.kind == "push" else PULL_KEYS:
            value = getattr(self, key)
            info[key] = (value.to_json() if value else None) if key == "encryption" else _plain(value)
        return info


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value


def split_after(value: str, choices: tuple[str, ...], key: str, where: str) -> tuple[str, str | None]:
    """'keep', 'delete', 'archive' or 'archive:DIR' -> (action, DIR or None); DIR must not be empty."""
    action, sep, folder = value.partition(":")
    if action not in choices or (sep and action != "archive"):
        raise ConfigError(
            f"{where}: {key} {value!r} is not one of {', '.join(choices)}",
            f"use 'keep', 'delete' or 'archive:FOLDER' for {key}",
        )
    if sep and not folder.strip():
        raise ConfigError(f"{where}: {key} {value!r} names no folder", f"use 'archive:FOLDER' for {key}")
    return action, folder.strip() if sep else None


def absolute_path(text: str) -> Path:
    """A user's path with ~ expanded, made absolute against the current folder and normalised."""
    return Path(os.path.abspath(os.path.expanduser(text)))


def remote_path(text: str) -> str:
    """A remote folder normalised: '' for the connection's folder, relative without slashes, or absolute."""
    if not text.strip("/"):
        return "/" if text.startswith("/") else ""
    return posixpath.normpath(text) if text.startswith("/") else posixpath.normpath(text.strip("/"))


def normalise_marker(marker: str | None) -> str | None:
    """'done' -> '.done'; None stays None."""
    if marker is None:
        return None
    marker = marker.strip()
    return marker if marker.startswith(".") else "." + marker


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def check_job(job: JobSpec, where: str) -> None:
    """Raise ConfigError naming the setting and the fix when the job's values do not fit together."""
    if job.kind not in KINDS:
        raise ConfigError(f"{where}: kind {job.kind!r} is not 'push' or 'pull'", "use kind = 'push' or kind = 'pull'")
    if job.kind == "push":
        if job.watch is None:
            raise ConfigError(f"{where}: a push job needs a watch folder", "add watch = '/path/to/outbox'")
        if job.after not in PUSH_AFTER:
            raise ConfigError(f"{where}: after {job.after!r} is not one of {', '.join(PUSH_AFTER)}")
        if (job.after == "archive") != (job.archive_dir is not None):
            raise ConfigError(
                f"{where}: after = 'archive' and archive_dir go together",
                "set after = 'archive:FOLDER' (or after = 'archive' with archive_dir), or remove archive_dir",
            )
        for key in ("archive_dir", "failed_dir"):
            folder = getattr(job, key)
            if folder is not None and _inside(folder, job.watch) and (job.recursive or _inside(job.watch, folder)):
                raise ConfigError(
                    f"{where}: {key} {folder} is {'the' if _inside(job.watch, folder) else 'inside the'} "
                    f"watched folder {job.watch}",
                    f"pick {'an archive' if key == 'archive_dir' else 'a failed'} folder outside {job.watch}, "
                    "or the files would be sent again",
                )
        if not 0 < job.stable_seconds < float("inf"):
            raise ConfigError(f"{where}: stable_seconds must be more than 0", "use e.g. stable_seconds = 5")
        if job.done_marker is not None and not MARKER_PATTERN.match(job.done_marker):
            raise ConfigError(
                f"{where}: done_marker {job.done_marker!r} is not a file-name suffix", "use e.g. '.done' or '.ok'"
            )
        if not job.include or not all(job.include) or not all(job.exclude):
            raise ConfigError(f"{where}: include and exclude must be non-empty globs", "use e.g. include = ['*.xml']")
        return
    if job.target is None:
        raise ConfigError(f"{where}: a pull job needs a target folder", "add target = '/path/to/inbox'")
    if not job.pattern or "/" in job.pattern:
        raise ConfigError(f"{where}: pattern {job.pattern!r} must be a file-name glob", "use remote_dir for the folder")
    if job.remote_after not in PULL_AFTER:
        raise ConfigError(f"{where}: remote_after {job.remote_after!r} is not one of {', '.join(PULL_AFTER)}")
    if (job.remote_after == "archive") != bool(job.remote_archive):
        raise ConfigError(
            f"{where}: remote_after = 'archive' and remote_archive go together",
            "set remote_after = 'archive:REMOTE_FOLDER', or remove remote_archive",
        )
    archive = remote_path(job.remote_archive)
    if archive == "." or (archive.startswith("/") and archive == remote_path(job.remote_dir)):
        raise ConfigError(f"{where}: remote_archive is the pulled folder itself", "pick another remote folder")
    if job.verify_from is not None:
        if not job.decrypt:
            raise ConfigError(f"{where}: verify_from needs decrypt", "set decrypt = true, or remove verify_from")
        if not FINGERPRINT_PATTERN.match(job.verify_from):
            raise ConfigError(
                f"{where}: verify_from {job.verify_from!r} is not a full key fingerprint",
                "use the 40-digit fingerprint shown by 'transferapp key list'",
            )


def _typed(table: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str, where: str) -> Any:
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{where}: {key} must be {what}, not {value!r}", f"fix the {key} line")
    return value


def _local(table: dict[str, Any], key: str, where: str) -> Path:
    path = Path(os.path.expanduser(_typed(table, key, str, "a folder path", where)))
    if not path.is_absolute():
        raise ConfigError(f"{where}: {key} {str(path)!r} is not an absolute path", f"write the full path in {key}")
    return Path(os.path.normpath(path))


def job_from_toml(name: str, table: dict[str, Any], source: str) -> JobSpec:
    """Build and validate a JobSpec from its ``[jobs.NAME]`` table; errors name the job, the key and the fix."""
    where = f"job {name!r} in {source}"
    try:
        validate_name(name)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc.message}", exc.hint) from None
    nested = table.get("encryption")
    for key in [*table, *(nested if isinstance(nested, dict) else ())]:
        if any(word in key.lower() for word in SECRET_WORDS):
            raise ConfigError(
                f"{where} has a {key!r} entry: secrets must not be stored in the config file",
                "delete that line: a job logs in as its connection, whose secret is in the OS keyring",
            )
    kind = table.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind {kind!r} is not 'push' or 'pull'", "add kind = 'push' or kind = 'pull'")
    allowed, other = (PUSH_KEYS, PULL_KEYS) if kind == "push" else (PULL_KEYS, PUSH_KEYS)
    for key in table:
        if key in other:
            raise ConfigError(f"{where}: {key!r} only applies to {'pull' if kind == 'push' else 'push'} jobs",
                              f"remove the {key} line, or change kind")  # fmt: skip
        if key not in COMMON_KEYS and key not in allowed:
            known = ", ".join((*COMMON_KEYS, *allowed))
            raise ConfigError(f"{where} has an unknown key {key!r}", f"remove or rename it; allowed keys: {known}")
    if not isinstance(table.get("connection"), str) or not table["connection"]:
        raise ConfigError(f"{where}: connection is missing", "add connection = 'NAME' ('transferapp connection list')")
    job = JobSpec(name=name, kind=kind, connection=table["connection"])
    for key in ("enabled", "recursive", "polling", "decrypt"):
        if key in table:
            setattr(job, key, _typed(table, key, bool, "true or false", where))
    for key in ("remote_dir", "remote_archive"):
        if key in table:
            setattr(job, key, remote_path(_typed(table, key, str, "a remote folder", where)))
    try:
        job.schedule = Schedule.from_toml(table)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc.message}", exc.hint) from None
    for key in ("watch", "target", "archive_dir", "failed_dir"):
        if key in table:
            setattr(job, key, _local(table, key, where))
    for key in ("include", "exclude"):
        if key in table:
            value = [table[key]] if isinstance(table[key], str) else table[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key} must be a list of globs, not {value!r}", f"use {key} = ['*.xml']")
            setattr(job, key, tuple(value))
    for key, choices, into in (("after", PUSH_AFTER, "archive_dir"), ("remote_after", PULL_AFTER, "remote_archive")):
        if key not in table:
            continue
        action, folder = split_after(_typed(table, key, str, "a text", where), choices, key, where)
        setattr(job, key, action)
        if folder is not None:
            if into in table:
                raise ConfigError(f"{where}: the folder is given twice ({key} and {into})", f"remove the {into} line")
            setattr(job, into, remote_path(folder) if key == "remote_after" else _local({key: folder}, key, where))
    if "stable_seconds" in table:
        job.stable_seconds = float(_typed(table, "stable_seconds", (int, float), "a number of seconds", where))
    if "done_marker" in table:
        job.done_marker = normalise_marker(_typed(table, "done_marker", str, "a suffix such as '.done'", where))
    if "pattern" in table:
        job.pattern = _typed(table, "pattern", str, "a glob such as 'orders_*.xml'", where)
    if "verify_from" in table:
        job.verify_from = _typed(table, "verify_from", str, "a key fingerprint", where).replace(" ", "").upper()
    if "encryption" in table:
        job.encryption = policy_from_toml(table["encryption"], f"{where}, encryption")
    check_job(job, where)
    return job


def load_jobs(config: Config) -> dict[str, JobSpec]:
    """Every job in the config file, validated; a job naming an unknown connection is an error."""
    source = str(config.path)
    tables = config.other.get("jobs", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"'jobs' in {source} must be a table", "use [jobs.NAME] sections")
    jobs: dict[str, JobSpec] = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"jobs.{name} in {source} must be a table", f"use a [jobs.{name}] section")
        job = job_from_toml(name, table, source)
        if job.connection not in config.connections:
            known = ", ".join(sorted(config.connections)) or "none yet"
            raise ConfigError(
                f"job {name!r} in {source} uses connection {job.connection!r}, which does not exist",
                f"known connections: {known}; add {job.connection!r} with 'transferapp connection add', "
                f"fix the job's connection line, or remove the job with 'transferapp job remove {name}'",
            )
        jobs[name] = job
    return jobs


def save_jobs(config: Config, jobs: dict[str, JobSpec]) -> None:
    """Store the jobs in ``config.other['jobs']`` and write the config file (connections kept)."""
    if jobs:
        config.other["jobs"] = {name: job.to_toml() for name, job in sorted(jobs.items())}
    else:
        config.other.pop("jobs", None)
    config.save()
