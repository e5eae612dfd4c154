"""The push-job agent: a burst of small files into a watched folder, and its memory while watching many files.

Two measurements against the test sshd, each with its own isolated transferapp home and a real ``transferapp agent``
started in the background (stopped with SIGTERM by its pid):

- burst: ``--files`` files of 10 KiB written at once into the watched folder of a push job (``--stable-seconds 1
  --after delete``) while the agent runs idle. Timed from the end of the drop until all files are on the server
  (the remote folder is polled); the pickup latency is the time from the drop to the first file on the server minus
  the stable window. Reference in the same run: OpenSSH ``sftp -b`` putting the same files (ratio = sftp time /
  agent time, > 1: the agent is faster). Checked: every file arrived exactly once with its content (sha256), the
  watched folder is empty afterwards and ``transferapp log`` has one ok row per file.
- memory: ``--existing`` small files in the watched folder of a job with ``--done-marker .done`` (so none is ready
  and nothing is sent); the agent's own VmHWM and VmRSS are read from /proc after ``--settle`` seconds, or up to 15 s
  later once its CPU use has settled (not wait4's ru_maxrss, which Linux carries over from this benchmark's own peak,
  see pgp_encrypt.py). Its CPU share over the last 3 s is reported too: it need not settle while files are pending.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import (
    KIB,
    MIB,
    TRANSFERAPP,
    AppHome,
    BenchEnv,
    format_seconds,
    report,
    run_cmd,
    verify_tree,
)

STABLE_S = 1.0
from support.jobs_kit import stop_agent  # noqa: E402 - bench.common puts tests/ on the path first

FILE_BYTES = 10 * KIB
CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (its own threads, not reaped children)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_memory(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS of process ``pid`` in bytes."""
    with open(f"/proc/{pid}/status") as handle:
        return {
            k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in handle) if k in ("VmHWM", "VmRSS")
        }


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (over all its threads)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def wait_settled(pid: int, least_s: float, most_s: float, quiet_cpu_s: float = 0.03) -> tuple[float, float, bool]:
    """Wait at least ``least_s`` and until ``pid`` used under ``quiet_cpu_s`` CPU in each of the last 3 seconds.

    Gives up waiting for quiet after ``most_s``. Returns the seconds waited, the share of one core the process used
    over the last 3 seconds, and whether it had settled.
    """
    start = time.monotonic()
    samples = [proc_cpu_s(pid)]
    while True:
        time.sleep(1.0)
        samples.append(proc_cpu_s(pid))
        recent = [b - a for a, b in itertools.pairwise(samples[-4:])]
        settled = len(recent) == 3 and max(recent) < quiet_cpu_s
        waited = time.monotonic() - start
        if (waited >= least_s and settled) or waited >= most_s:
            return waited, sum(recent) / len(recent), settled


@contextlib.contextmanager
def running_agent(home: AppHome, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``transferapp agent`` in the background, once its lock file holds its pid; SIGTERM (then SIGKILL) at the end."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(TRANSFERAPP), "agent"], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                env=home.env)  # fmt: skip
    lock = home.path / "data" / "agent.lock"
    try:
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip() == str(proc.pid)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the agent did not start (exit {proc.poll()}):\n{log.read_text()[-4000:]}")
            time.sleep(0.05)
        yield proc
    finally:
        code = stop_agent(proc)
        if code != 0:
            print(f"    WARNING: the agent exited with {code} on SIGTERM; its output:\n{log.read_text()[-2000:]}")


def add_push_job(home: AppHome, name: str, watch: Path, *extra: str) -> None:
    """``transferapp job add NAME --push --watch WATCH --to CONN`` plus ``extra`` flags."""
    cmd = [str(TRANSFERAPP), "job", "add", name, "--push", "--watch", str(watch), "--to", home.connection, *extra]
    run_cmd(cmd, env=home.env, timeout=60)


def visible_files(folder: Path) -> int:
    """Number of non-hidden entries in ``folder`` (uploads in progress are hidden ``.NAME.part`` files)."""
    with os.scandir(folder) as entries:
        return sum(1 for e in entries if not e.name.startswith("."))


def bench_burst(env: BenchEnv, count: int, timeout: float) -> dict[str, float]:
    """Case 1: a burst of ``count`` files into a watched folder vs OpenSSH ``sftp -b put``."""
    contents = [os.urandom(FILE_BYTES) for _ in range(count)]
    names = [f"file-{i:05d}.bin" for i in range(count)]
    source = env.scratch / "burst-src"
    source.mkdir()
    files = []
    for name, data in zip(names, contents, strict=True):
        (source / name).write_bytes(data)
        files.append(source / name)

    ref_remote = env.remote_dir("agent-burst-ref")
    ref = env.sftp([f"cd {ref_remote}", f"put {source}/*"])
    verify_tree(source, ref_remote, files, checksum=True)

    remote = env.remote_dir("agent-burst")
    watch = env.scratch / "burst-watch"
    watch.mkdir()
    home = env.app(remote)
    add_push_job(home, "burst", watch, "--after", "delete", "--stable-seconds", f"{STABLE_S:g}")
    with running_agent(home, env.scratch / "agent-burst.log") as proc:
        idle_s, idle_cpu, idle = wait_settled(proc.pid, least_s=3, most_s=30)
        cpu_before = proc_cpu_s(proc.pid)
        drop_start = time.perf_counter()
        for name, data in zip(names, contents, strict=True):
            (watch / name).write_bytes(data)
        drop_end = time.perf_counter()
        first = None
        deadline = drop_end + timeout
        while (seen := visible_files(remote)) < count:
            if first is None and seen:
                first = time.perf_counter()
            if time.perf_counter() > deadline:
                raise RuntimeError(f"only {seen} of {count} files on the server after {timeout:g} s")
            time.sleep(0.005)
        done = time.perf_counter()
        first = first or done
        deleted_deadline = time.monotonic() + 60
        while any(os.scandir(watch)):
            if time.monotonic() > deleted_deadline:
                raise RuntimeError(f"{visible_files(watch)} files still in the watched folder 60 s after delivery")
            time.sleep(0.05)
        emptied = time.perf_counter()
        agent_cpu = proc_cpu_s(proc.pid) - cpu_before
        children = child_pids(proc.pid)

    verify_tree(source, remote, files, checksum=True)
    remote_names = sorted(p.name for p in remote.iterdir())
    if remote_names != names:
        raise RuntimeError(f"remote folder holds {len(remote_names)} entries, not exactly the {count} files")
    rows = json.loads(
        run_cmd([str(TRANSFERAPP), "log", "--json", "--status", "ok", "--limit", "100000"], env=home.env).stdout
    )
    paths = {Path(r["local_path"]).name for r in rows}
    if len(rows) != count or paths != set(names):
        raise RuntimeError(f"transferapp log has {len(rows)} ok rows for {len(paths)} distinct files, not {count}")

    agent_s = done - drop_end
    figures = {
        "agent_s": agent_s,
        "openssh_s": ref.seconds,
        "drop_s": drop_end - drop_start,
        "first_after_drop_end_s": first - drop_end,
        "first_after_drop_start_s": first - drop_start,
        "pickup_latency_s": first - drop_end - STABLE_S,
        "pickup_latency_from_drop_start_s": first - drop_start - STABLE_S,
        "emptied_after_drop_end_s": emptied - drop_end,
        "agent_cpu_s": agent_cpu,
        "openssh_cpu_s": ref.cpu_s,
        "idle_wait_s": idle_s,
        "idle_cpu_share": idle_cpu,
        "idle_settled": float(idle),
    }
    print(
        f"burst of {count} x {FILE_BYTES // KIB} KiB: drop took {format_seconds(figures['drop_s'])}; "
        f"all {count} on the server {format_seconds(agent_s)} after the drop ended "
        f"({count / agent_s:.1f} files/s; agent idle before: {idle_cpu:.1%} of a core, "
        f"{'settled' if idle else 'NOT settled'} after {idle_s:.0f} s); "
        f"first file {format_seconds(figures['first_after_drop_end_s'])} after "
        f"the drop ended -> pickup latency {figures['pickup_latency_s'] * 1000:.0f} ms beyond the "
        f"{STABLE_S:g} s stable window ({figures['pickup_latency_from_drop_start_s'] * 1000:.0f} ms counted from "
        f"the drop's start); watched folder empty {format_seconds(figures['emptied_after_drop_end_s'])} after the "
        f"drop; OpenSSH sftp -b put {format_seconds(ref.seconds)} ({count / ref.seconds:.1f} files/s); "
        f"checked: {count} remote files (sha256), watched folder empty, {len(rows)} ok log rows; "
        f"agent child processes at the end: {len(children)}",
        flush=True,
    )
    return figures


def bench_memory(env: BenchEnv, count: int, settle_s: float) -> dict[str, float]:
    """Case 2: the agent's peak and current RSS while it watches ``count`` files it must not send."""
    remote = env.remote_dir("agent-memory")
    watch = env.scratch / "memory-watch"
    watch.mkdir()
    for i in range(count):
        (watch / f"held-{i:05d}.xml").write_bytes(b"<held/>\n" * 16)
    home = env.app(remote)
    add_push_job(home, "held", watch, "--after", "delete", "--stable-seconds", f"{STABLE_S:g}",
                 "--done-marker", ".done")  # fmt: skip
    with running_agent(home, env.scratch / "agent-memory.log") as proc:
        waited, cpu_share, settled = wait_settled(proc.pid, least_s=settle_s, most_s=settle_s + 15)
        memory = proc_memory(proc.pid)
        cpu = proc_cpu_s(proc.pid)
        children = child_pids(proc.pid)
    sent = visible_files(remote)
    left = visible_files(watch)
    if sent or left != count:
        raise RuntimeError(f"files were sent although none was ready: {sent} on the server, {left} left of {count}")
    figures = {
        "vmhwm_bytes": memory["VmHWM"],
        "vmrss_bytes": memory["VmRSS"],
        "waited_s": waited,
        "cpu_share": cpu_share,
        "cpu_settled": float(settled),
        "agent_cpu_s": cpu,
        "children": len(children),
    }
    print(
        f"agent watching {count} existing files (none ready): VmHWM {memory['VmHWM'] / MIB:.1f} MiB, "
        f"VmRSS {memory['VmRSS'] / MIB:.1f} MiB after {waited:.0f} s (CPU until then {cpu:.2f} s; over the last "
        f"3 s {cpu_share:.1%} of a core, {'settled' if settled else 'NOT settled'}); "
        f"nothing sent; agent child processes: {len(children)}",
        flush=True,
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the burst (with its OpenSSH reference) and the memory measurement; report one record."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="files in the burst (default 1000)")
    parser.add_argument("--existing", type=int, default=10000, help="files the agent watches (default 10000)")
    parser.add_argument(
        "--settle", type=float, default=15.0, help="seconds before reading RSS, up to 15 more for CPU to settle"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds the burst may take (default 600)")
    args = parser.parse_args(argv)
    with BenchEnv() as env:
        burst = bench_burst(env, args.files, args.timeout)
        memory = bench_memory(env, args.existing, args.settle)
    report(
        f"push-job agent, burst of {args.files} x {FILE_BYTES // KIB} KiB files, loopback",
        burst["agent_s"],
        burst["openssh_s"],
        None,
        note=(
            f"agent = from the end of the drop ({format_seconds(burst['drop_s'])}) until all files are on the "
            f"server, stable window {STABLE_S:g} s included; OpenSSH = one sftp -b put of the same files; "
            f"pickup latency {burst['pickup_latency_s'] * 1000:.0f} ms beyond the stable window; CPU: agent "
            f"{burst['agent_cpu_s']:.2f} s, OpenSSH sftp+ssh {burst['openssh_cpu_s']:.2f} s; agent watching "
            f"{args.existing} files: VmHWM {memory['vmhwm_bytes'] / MIB:.1f} MiB, VmRSS "
            f"{memory['vmrss_bytes'] / MIB:.1f} MiB (/proc, after {memory['waited_s']:.0f} s; it then used "
            f"{memory['cpu_share']:.0%} of a core{'' if memory['cpu_settled'] else ', NOT settled'})"
        ),
        extra={
            "files": args.files,
            "file_bytes": FILE_BYTES,
            "stable_seconds": STABLE_S,
            "existing_files": args.existing,
            **{f"burst_{k}": round(v, 4) for k, v in burst.items()},
            **{f"memory_{k}": round(v, 4) for k, v in memory.items()},
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
