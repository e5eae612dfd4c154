"""``transferapp job ...`` and ``transferapp agent``: push and pull jobs in the config file, and running them."""

from __future__ import annotations

import argparse
from typing import Any

from transferapp.app import AppContext, open_app
from transferapp.cli.output import print_json, print_table
from transferapp.cli.transfers import decrypt_policy
from transferapp.config import validate_name
from transferapp.errors import ConfigError, NotFoundError
from transferapp.jobs.model import (
    PULL_AFTER,
    PUSH_AFTER,
    JobSpec,
    absolute_path,
    check_job,
    load_jobs,
    normalise_marker,
    remote_path,
    save_jobs,
    split_after,
)
from transferapp.jobs.schedule import Schedule
from transferapp.store.jobs import JobStore

# Flags that only make sense for one kind of job (argparse dest -> flag as typed).
PUSH_ONLY = {"watch": "--watch", "include": "--include", "exclude": "--exclude", "after": "--after",
             "stable_seconds": "--stable-seconds", "done_marker": "--done-marker", "encrypt_to": "--encrypt-to",
             "sign": "--sign", "gzip": "--gzip", "pgp_ext": "--pgp-ext", "recursive": "--recursive",
             "polling": "--polling", "failed_dir": "--failed-dir"}  # fmt: skip
PULL_ONLY = {"source": "--from", "pattern": "--pattern", "remote_after": "--remote-after", "decrypt": "--decrypt",
             "verify_from": "--verify-from"}  # fmt: skip


def register(commands: Any) -> None:
    """Add the ``job`` command group and ``agent``."""
    group = commands.add_parser("job", help="manage jobs: watched folders to send, scheduled pulls").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    add = group.add_parser(
        "add",
        help="add a push job (--push --watch DIR --to CONN) or a pull job (--pull --from CONN --pattern GLOB --to DIR)",
    )
    add.add_argument("name")
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument("--push", dest="kind", action="store_const", const="push", help="send files from a folder")
    kind.add_argument("--pull", dest="kind", action="store_const", const="pull", help="fetch files from a server")
    add.add_argument("--to", required=True, metavar="CONN|DIR", help="push: the connection; pull: the local folder")
    add.add_argument("--from", dest="source", metavar="CONN", help="pull: the connection to fetch from")
    add.add_argument("--remote-dir", default="", metavar="DIR", help="folder under the connection's folder (or /abs)")
    add.add_argument("--schedule", metavar="CRON", help="cron schedule such as '0 2 * * *' (02:00 daily)")
    add.add_argument("--every", metavar="INTERVAL", help="run at this interval such as 15m or 1h (not with --schedule)")
    add.add_argument("--window", metavar="HH:MM-HH:MM", help="only run inside this time of day, e.g. 01:00-05:00")
    add.add_argument("--disabled", action="store_true", help="add the job switched off")
    push = add.add_argument_group("push jobs")
    push.add_argument("--watch", metavar="DIR", help="the folder whose complete files are sent (must exist)")
    push.add_argument("--recursive", action="store_true", help="also send files in subfolders")
    push.add_argument("--include", action="append", metavar="GLOB", help="only files matching (repeatable)")
    push.add_argument("--exclude", action="append", metavar="GLOB", help="never files matching (repeatable)")
    push.add_argument("--after", metavar="ACTION", help="after a verified upload: keep (default), delete, archive:DIR")
    push.add_argument("--failed-dir", metavar="DIR", help="move files refused for good (e.g. PCI guard) here")
    push.add_argument("--stable-seconds", type=float, metavar="N", help="unchanged this long = complete (default 5)")
    push.add_argument("--done-marker", metavar="SUFFIX", help="send NAME once NAME+SUFFIX exists (.done: a.xml.done)")
    push.add_argument("--polling", action="store_true", help="poll the folder (network shares without events)")
    push.add_argument("--encrypt-to", action="append", metavar="FP", help="OpenPGP-encrypt to this key (repeatable)")
    push.add_argument("--sign", action="store_true", help="sign encrypted files with the own key")
    push.add_argument("--gzip", action="store_true", help="gzip before encrypting (NAME.gz.pgp)")
    push.add_argument("--pgp-ext", choices=(".pgp", ".gpg"), help="extension of encrypted files (default .pgp)")
    pull = add.add_argument_group("pull jobs")
    pull.add_argument("--pattern", metavar="GLOB", help="remote file names to fetch, e.g. 'orders_*.xml'")
    pull.add_argument(
        "--remote-after", metavar="ACTION", help="after download: keep, delete, archive:DIR (under the pulled folder)"
    )
    pull.add_argument("--decrypt", action="store_true", help="decrypt OpenPGP files with the own key")
    pull.add_argument("--verify-from", metavar="FP", help="require a good signature from this key (with --decrypt)")
    add.set_defaults(handler=add_job)

    listing = group.add_parser("list", help="list jobs")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_jobs)
    show = group.add_parser("show", help="show one job")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_job)
    for action, handler, text in (
        ("enable", enable_job, "switch a job on (the agent runs it)"),
        ("disable", disable_job, "switch a job off (kept in the config)"),
        ("remove", remove_job, "delete a job from the config"),
        ("run", run_job, "run a job once now, in the foreground"),
    ):
        sub = group.add_parser(action, help=text)
        sub.add_argument("name")
        sub.set_defaults(handler=handler)

    agent = commands.add_parser(
        "agent", help="run the enabled jobs: watch folders and run schedules until stopped (Ctrl+C)"
    )
    agent.add_argument("--foreground", action="store_true", help="accepted for scripts; the agent always runs here")
    agent.set_defaults(handler=run_agent_command)


def _given(args: argparse.Namespace, dest: str) -> bool:
    return getattr(args, dest) not in (None, False, [])


def find_job(jobs: dict[str, JobSpec], name: str) -> JobSpec:
    """The named job, or NotFoundError listing the known ones."""
    try:
        return jobs[name]
    except KeyError:
        known = ", ".join(sorted(jobs)) or "none yet"
        raise NotFoundError(f"No job named {name!r}", f"known jobs: {known}; add one: 'transferapp job add'") from None


def add_job(args: argparse.Namespace) -> int:
    """Check every value (connection, folders, schedule, keys), then store the job."""
    name = validate_name(args.name)
    wrong = PULL_ONLY if args.kind == "push" else PUSH_ONLY
    for dest, flag in wrong.items():
        if _given(args, dest):
            raise ConfigError(f"{flag} only applies to {'pull' if args.kind == 'push' else 'push'} jobs",
                              f"remove {flag}, or use --{'pull' if args.kind == 'push' else 'push'}")  # fmt: skip
    ctx = open_app()
    jobs = load_jobs(ctx.config)
    if name in jobs:
        raise ConfigError(
            f"A job named {name!r} already exists", f"pick another name, or first 'transferapp job remove {name}'"
        )
    timing = (args.schedule, args.every, args.window)
    schedule = Schedule.parse(*timing) if any(t is not None for t in timing) else None
    job = _push_job(ctx, args, schedule) if args.kind == "push" else _pull_job(ctx, args, schedule)
    check_job(job, f"job {name!r}")
    if job.target is not None and not job.target.is_dir():
        job.target.mkdir(parents=True)
        print(f"Created the folder {job.target}.")
    jobs[name] = job
    save_jobs(ctx.config, jobs)
    info = job.describe()
    where = f"{info['watch']} -> {job.connection}" if job.kind == "push" else f"{job.connection} -> {info['target']}"
    then = "it is disabled" if not job.enabled else f"the agent runs it; run it now with 'transferapp job run {name}'"
    print(f"Added {job.kind} job {name!r} ({where}, {info['schedule'] or 'no schedule'}); {then}.")
    return 0


def _push_job(ctx: AppContext, args: argparse.Namespace, schedule: Schedule | None) -> JobSpec:
    conn = ctx.config.connection(args.to)
    if not args.watch:
        raise ConfigError("A push job needs --watch DIR", "give the folder whose files are sent")
    watch = absolute_path(args.watch)
    if not watch.is_dir():
        raise ConfigError(
            f"The watch folder {watch} {'is not a folder' if watch.exists() else 'does not exist'}",
            "create the folder first (a watched folder is never created for you), or fix --watch",
        )
    after, archive = split_after(args.after or "keep", PUSH_AFTER, "--after", f"job {args.name!r}")
    if after == "archive" and archive is None:
        raise ConfigError("--after archive needs a folder", "use --after archive:DIR")
    encryption = None
    if args.encrypt_to or args.sign or args.gzip or args.pgp_ext:
        from transferapp.pgp.policy import build_policy

        flags = (args.encrypt_to or (), args.sign, args.gzip, args.pgp_ext)
        encryption = build_policy(ctx.keys(), conn.encryption, *flags)
    return JobSpec(
        name=args.name,
        kind="push",
        connection=conn.name,
        enabled=not args.disabled,
        remote_dir=remote_path(args.remote_dir),
        schedule=schedule,
        watch=watch,
        recursive=args.recursive,
        include=tuple(args.include or ("*",)),
        exclude=tuple(args.exclude or ()),
        after=after,
        archive_dir=absolute_path(archive) if archive else None,
        failed_dir=absolute_path(args.failed_dir) if args.failed_dir else None,
        stable_seconds=5.0 if args.stable_seconds is None else args.stable_seconds,
        done_marker=normalise_marker(args.done_marker),
        polling=args.polling,
        encryption=encryption,
    )


def _pull_job(ctx: AppContext, args: argparse.Namespace, schedule: Schedule | None) -> JobSpec:
    if not args.source or not args.pattern:
        raise ConfigError("A pull job needs --from CONN and --pattern GLOB", "e.g. --from oms --pattern 'orders_*.xml'")
    conn = ctx.config.connection(args.source)
    target = absolute_path(args.to)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is not a folder", "give --to an existing or new folder")
    remote_after, archive = split_after(args.remote_after or "keep", PULL_AFTER, "--remote-after", f"job {args.name!r}")
    if remote_after == "archive" and archive is None:
        raise ConfigError("--remote-after archive needs a remote folder", "use --remote-after archive:DIR")
    decrypt = decrypt_policy(ctx, args.decrypt, args.verify_from)
    return JobSpec(
        name=args.name,
        kind="pull",
        connection=conn.name,
        enabled=not args.disabled,
        remote_dir=remote_path(args.remote_dir),
        schedule=schedule,
        pattern=args.pattern,
        target=target,
        remote_after=remote_after,
        remote_archive=remote_path(archive) if archive else "",
        decrypt=args.decrypt,
        verify_from=decrypt.verify_from if decrypt else None,
    )


def _folder(job: JobSpec) -> str:
    if job.kind == "push":
        return str(job.watch) + ("/**" if job.recursive else "")
    return f"{job.remote_dir}/{job.pattern}" if job.remote_dir else job.pattern


def _when(job: JobSpec) -> str:
    return job.schedule.describe() if job.schedule else "-"


def list_jobs(args: argparse.Namespace) -> int:
    """List the jobs."""
    jobs = dict(sorted(load_jobs(open_app().config).items()))
    if args.json:
        print_json([job.describe() for job in jobs.values()])
    elif not jobs:
        print("No jobs yet. Add one with 'transferapp job add NAME --push --watch DIR --to CONNECTION'.")
    else:
        print_table(
            ["NAME", "KIND", "ENABLED", "CONNECTION", "FOLDER/PATTERN", "SCHEDULE"],
            [[j.name, j.kind, "yes" if j.enabled else "no", j.connection, _folder(j), _when(j)] for j in jobs.values()],
        )
    return 0


def show_job(args: argparse.Namespace) -> int:
    """Show one job's settings."""
    info = find_job(load_jobs(open_app().config), args.name).describe()
    if args.json:
        print_json(info)
    else:
        info.pop("schedule_settings")
        for key, value in info.items():
            if isinstance(value, dict):  # the encryption policy
                value = ", ".join(value["recipients"]) + (", signed" if value["sign"] else "")
            if isinstance(value, bool):
                value = "yes" if value else "no"
            shown = ", ".join(value) if isinstance(value, list) else value
            print(f"{key + ':':15} {shown if shown not in (None, '') else '-'}")
    return 0


def _set_enabled(name: str, enabled: bool) -> int:
    ctx = open_app()
    jobs = load_jobs(ctx.config)
    job = find_job(jobs, name)
    state = "enabled" if enabled else "disabled"
    if job.enabled == enabled:
        print(f"Job {name!r} is already {state}.")
        return 0
    job.enabled = enabled
    save_jobs(ctx.config, jobs)
    print(f"Job {name!r} is {state}.")
    return 0


def enable_job(args: argparse.Namespace) -> int:
    """Switch a job on."""
    return _set_enabled(args.name, True)


def disable_job(args: argparse.Namespace) -> int:
    """Switch a job off."""
    return _set_enabled(args.name, False)


def remove_job(args: argparse.Namespace) -> int:
    """Delete a job's table, even one that no longer loads (e.g. its connection was removed)."""
    ctx = open_app()
    tables = ctx.config.other.get("jobs")
    if not isinstance(tables, dict) or args.name not in tables:
        known = ", ".join(sorted(tables)) if isinstance(tables, dict) and tables else "none yet"
        raise NotFoundError(f"No job named {args.name!r}", f"known jobs: {known}")
    del tables[args.name]
    if not tables:
        del ctx.config.other["jobs"]
    ctx.config.save()
    JobStore(ctx.db).forget(args.name)  # a new job of that name starts afresh
    print(f"Removed job {args.name!r}; its files and folders were left as they are.")
    return 0


def run_job(args: argparse.Namespace) -> int:
    """Run one job once in the foreground; the exit status says whether everything went."""
    ctx = open_app()
    job = find_job(load_jobs(ctx.config), args.name)
    from transferapp.jobs.runner import run_job_once

    return run_job_once(ctx, job)


def run_agent_command(_args: argparse.Namespace) -> int:
    """Run the enabled jobs until stopped."""
    ctx = open_app()
    from transferapp.jobs.agent import run_agent

    return run_agent(ctx)
