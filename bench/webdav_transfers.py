"""WebDAV against nginx on loopback (plain http, Basic auth): transferapp vs curl in the same run.

With ``--delay-ms D`` both clients reach nginx through a TCP proxy that delays each direction by D ms (a round trip
of 2 x D, like a B2C Commerce instance across the internet); without it they talk to nginx directly.

Three cases, each run interleaved with the reference and checked after every run:

- one large random file up: ``transferapp send FILE`` vs ``curl -T FILE URL`` (sha256 checked on the server);
- the same file down: ``transferapp pull NAME PATTERN --to DIR`` vs ``curl -o FILE URL`` (sha256 checked);
- many small files up: ``transferapp send FOLDER`` (the app's default concurrency, and ``--concurrency``) vs ONE
  curl invocation that MKCOLs the folders and PUTs every file over the connection it keeps (``--config`` with
  ``upload-file``/``url`` pairs, transfers one after the other: one client, one connection).

No goals are set for WebDAV yet: the lines inform (ratio = curl time / transferapp time, > 1: transferapp faster).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

from bench.common import (
    CURL_REF,
    KIB,
    MIB,
    Comparison,
    DavBenchEnv,
    RunResult,
    add_repeat_arg,
    clean_dir,
    compare,
    local_sha256,
    mib_per_s,
    report,
    sha256_file,
    verify_tree,
    write_random_file,
    write_small_files,
)

GOAL: float | None = None  # no WebDAV goal has been set; the results inform
CASES = ("upload", "download", "small")
QUICK = {"mib": 64, "files": 200, "repeat": 1}
FULL = {"mib": 512, "files": 1000, "repeat": 3}
CONNECTS = re.compile(r"^connects=(\d+)$", re.MULTILINE)


class RequestCounter:
    """Counts the HTTP requests nginx logged during each run of a tool (from its access log)."""

    def __init__(self, env: DavBenchEnv) -> None:
        """Count requests to ``env``'s server."""
        self.env = env
        self.ours: list[int] = []
        self.ref: list[int] = []

    def wrap(self, run: Callable[[], RunResult], into: list[int]) -> Callable[[], RunResult]:
        """``run``, with the requests it caused appended to ``into``."""

        def counted() -> RunResult:
            before = self.env.access_log_lines()
            result = run()
            into.append(self.env.access_log_lines() - before)
            return result

        return counted

    def note(self) -> str:
        """The median request counts of both tools, for the report."""
        return f"HTTP requests per run: transferapp {_median_int(self.ours)}, curl {_median_int(self.ref)}"

    def fields(self) -> dict[str, list[int]]:
        """Every run's request count, for the JSON record."""
        return {"transferapp_requests": self.ours, "curl_requests": self.ref}


def _median_int(values: list[int]) -> str:
    """The median of counts, as an integer where it is one."""
    if not values:
        return "?"
    median = statistics.median(values)
    return f"{median:g}"


def _rss_note(runs: Comparison) -> tuple[str, dict[str, int]]:
    """Peak RSS of both tools over all runs: a note and the JSON fields."""
    ours = max(r.max_rss_bytes for r in runs.ours)
    ref = max(r.max_rss_bytes for r in runs.ref)
    note = f"transferapp peak RSS {ours / MIB:.0f} MiB (curl: {ref / MIB:.0f} MiB)"
    return note, {"transferapp_peak_rss_bytes": ours, "curl_peak_rss_bytes": ref}


def bench_upload(env: DavBenchEnv, repeat: int, local: Path) -> None:
    """One large file up: ``transferapp send`` vs ``curl -T``; the server's copy is hashed after every run."""
    remote = env.remote_dir("up-large")
    url = env.url(f"up-large/{local.name}")
    counter = RequestCounter(env)

    def ours() -> RunResult:
        result = env.app("up-large").send(local)
        verify_tree(local.parent, remote, [local], checksum=True)
        return result

    def ref() -> RunResult:
        result = env.curl("-T", str(local), url)
        verify_tree(local.parent, remote, [local], checksum=True)
        return result

    runs = compare(
        repeat,
        counter.wrap(ours, counter.ours),
        counter.wrap(ref, counter.ref),
        before=lambda: clean_dir(remote),
        reference=CURL_REF,
    )
    size = local.stat().st_size
    rss_note, rss = _rss_note(runs)
    report(
        f"{size // MIB} MiB upload, WebDAV (nginx) {env.link}",
        runs.ours_s,
        runs.ref_s,
        GOAL,
        note=(
            f"transferapp {mib_per_s(size, runs.ours_s)}, curl {mib_per_s(size, runs.ref_s)}; {runs.summary()}; "
            f"{rss_note}; {counter.note()}"
        ),
        extra={"protocol": "webdav", "size_bytes": size, **rss, **counter.fields(), **runs.timings()},
        reference=CURL_REF,
    )


def _check_download(local: Path, target: Path) -> None:
    """The downloaded copy in ``target`` must have the source's size and SHA-256, and no temp file may be left."""
    got = target / local.name
    problems = []
    if not got.is_file():
        problems.append(f"missing {got}")
    elif got.stat().st_size != local.stat().st_size:
        problems.append(f"size {got.stat().st_size} != {local.stat().st_size}")
    elif sha256_file(got) != local_sha256(local):
        problems.append("sha256 differs")
    leftovers = [p.name for p in target.iterdir() if p != got]
    if leftovers:
        problems.append(f"other files left: {leftovers[:5]}")
    if problems:
        raise RuntimeError(f"download check failed: {problems}")


def bench_download(env: DavBenchEnv, repeat: int, local: Path) -> None:
    """The large file down: ``transferapp pull`` vs ``curl -o``; the local copy is hashed after every run."""
    remote = env.remote_dir("down-large")
    shutil.copyfile(local, remote / local.name)
    env.dav.give_to_server(remote / local.name)
    url = env.url(f"down-large/{local.name}")
    target = env.scratch / "downloads"
    counter = RequestCounter(env)

    def fresh_target() -> None:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()

    def ours() -> RunResult:
        result = env.app("down-large").pull(local.name, target)
        _check_download(local, target)
        return result

    def ref() -> RunResult:
        result = env.curl("-o", str(target / local.name), url)
        _check_download(local, target)
        return result

    runs = compare(
        repeat,
        counter.wrap(ours, counter.ours),
        counter.wrap(ref, counter.ref),
        before=fresh_target,
        reference=CURL_REF,
    )
    size = local.stat().st_size
    rss_note, rss = _rss_note(runs)
    report(
        f"{size // MIB} MiB download, WebDAV (nginx) {env.link}",
        runs.ours_s,
        runs.ref_s,
        GOAL,
        note=(
            f"transferapp {mib_per_s(size, runs.ours_s)}, curl {mib_per_s(size, runs.ref_s)}; {runs.summary()}; "
            f"{rss_note}; {counter.note()}"
        ),
        extra={"protocol": "webdav", "size_bytes": size, **rss, **counter.fields(), **runs.timings()},
        reference=CURL_REF,
    )


def _quote(value: str) -> str:
    """A double-quoted value for a curl config file."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def small_folders(source: Path, files: list[Path]) -> list[Path]:
    """The folders the small files need on the server, relative to ``source``'s parent, parents first."""
    return sorted({f.parent.relative_to(source.parent) for f in files} | {Path(source.name)})


def curl_upload_config(env: DavBenchEnv, source: Path, files: list[Path], remote_name: str) -> list[str]:
    """curl config lines: MKCOL every folder of ``source`` (parents first), then PUT each file to its place.

    Everything runs in one curl process, one transfer after the other, so the kept-alive connection is reused;
    each transfer prints ``connects=N`` (new connections it opened) so the reuse can be checked.
    """
    login = _quote(f"{env.dav.user}:{env.dav.password}")
    common = [f"user = {login}", "fail", 'write-out = "connects=%{num_connects}\\n"']
    lines = [*common, 'request = "MKCOL"']
    for folder in small_folders(source, files):
        lines.append(f"url = {_quote(env.url(f'{remote_name}/{folder.as_posix()}/'))}")
    lines += ["next", *common]
    for file in files:
        rel = file.relative_to(source.parent).as_posix()
        lines += [f"upload-file = {_quote(str(file))}", f"url = {_quote(env.url(f'{remote_name}/{rel}'))}"]
    return lines


def small_case(
    env: DavBenchEnv, args: argparse.Namespace, source: Path, files: list[Path], concurrency: int | None
) -> None:
    """``transferapp send FOLDER`` at ``concurrency`` (None: the app's default) vs one curl, interleaved."""
    remote = env.remote_dir("small")
    config = curl_upload_config(env, source, files, "small")
    counter = RequestCounter(env)
    connects: list[int] = []

    def ours() -> RunResult:
        result = env.app("small", concurrency=concurrency).send(source)
        verify_tree(source.parent, remote, files)
        return result

    def ref() -> RunResult:
        result = env.curl_config(config)
        verify_tree(source.parent, remote, files)
        connects.append(sum(int(n) for n in CONNECTS.findall(result.stdout)))
        return result

    runs = compare(
        args.repeat,
        counter.wrap(ours, counter.ours),
        counter.wrap(ref, counter.ref),
        before=lambda: clean_dir(remote),
        reference=CURL_REF,
    )
    count = len(files)
    label = concurrency or "app default"
    report(
        f"{count} x {args.kib} KiB files upload, WebDAV (nginx) {env.link}, transferapp concurrency {label}",
        runs.ours_s,
        runs.ref_s,
        GOAL,
        note=(
            f"files/s: transferapp {count / runs.ours_s:.1f}, curl {count / runs.ref_s:.1f}; curl: one process, "
            f"{max(connects)} connection(s), MKCOL of {len(small_folders(source, files))} folders + {count} PUTs; "
            f"{counter.note()}; {runs.summary()}"
        ),
        extra={
            "protocol": "webdav",
            "files": count,
            "file_bytes": args.kib * KIB,
            "concurrency": concurrency,
            "curl_connections": connects,
            **counter.fields(),
            "transferapp_peak_rss_bytes": max(r.max_rss_bytes for r in runs.ours),
            **runs.timings(),
        },
        reference=CURL_REF,
    )


def bench_small(env: DavBenchEnv, args: argparse.Namespace) -> None:
    """Many small files up: transferapp with the app's default concurrency, then with ``--concurrency``."""
    source = env.scratch / "src" / "files"
    files = write_small_files(source, args.files, args.kib * KIB)
    for concurrency in (None, args.concurrency):
        small_case(env, args, source, files, concurrency)


def main(argv: list[str] | None = None) -> int:
    """Run the selected WebDAV cases against one nginx."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and one run each: 64 MiB, 200 files")
    parser.add_argument("--mib", type=int, help=f"large file size in MiB (default {FULL['mib']})")
    parser.add_argument("--files", type=int, help=f"number of small files (default {FULL['files']})")
    parser.add_argument("--kib", type=int, default=10, help="size of each small file in KiB (default 10)")
    parser.add_argument("--concurrency", type=int, default=8, help="transferapp concurrency for the second run")
    parser.add_argument("--only", choices=CASES, action="append", help="run just these cases (repeatable)")
    parser.add_argument(
        "--delay-ms", type=float, default=0.0, help="one-way delay of a proxy both go through (default 0: none)"
    )
    add_repeat_arg(parser, FULL["repeat"])
    parser.set_defaults(repeat=None)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    args.mib = args.mib or sizes["mib"]
    args.files = args.files or sizes["files"]
    args.repeat = args.repeat or sizes["repeat"]
    cases = args.only or CASES
    with DavBenchEnv() as env, env.via_delay(args.delay_ms):
        if "upload" in cases or "download" in cases:
            local = write_random_file(env.scratch / "src" / "large.bin", args.mib * MIB)
            if "upload" in cases:
                bench_upload(env, args.repeat, local)
            if "download" in cases:
                bench_download(env, args.repeat, local)
            local.unlink()
        if "small" in cases:
            bench_small(env, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
