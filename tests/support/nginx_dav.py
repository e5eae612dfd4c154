"""A real nginx with the WebDAV and dav-ext modules on a free loopback port, for WebDAV transport tests."""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from .ports import free_port
from .procs import descendant_pids, send_signal, wait_gone

NGINX = "/usr/sbin/nginx"
MODULE_DIRS = (Path("/usr/lib/nginx/modules"), Path("/usr/lib64/nginx/modules"), Path("/usr/share/nginx/modules"))
DAV_EXT = "ngx_http_dav_ext_module.so"
HOST = "127.0.0.1"
#: The unprivileged user the workers run as when nginx is started by root.
WORKER_USER = "www-data"


def dav_ext_module() -> Path | None:
    """The dav-ext module file (Debian: libnginx-mod-http-dav-ext), or None when it is not installed."""
    for folder in MODULE_DIRS:
        if (folder / DAV_EXT).is_file():
            return folder / DAV_EXT
    return None


def nginx_available() -> bool:
    """Tell whether nginx and its dav-ext module are installed."""
    return os.access(NGINX, os.X_OK) and dav_ext_module() is not None


def _ssha(password: str) -> str:
    """An htpasswd entry value in RFC 2307 ``{SSHA}`` form, which nginx's auth_basic accepts."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - the format nginx reads
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


class NginxDav:
    """nginx serving a private folder as WebDAV at ``/dav/`` (Basic auth), started in the foreground.

    ``/dav/`` needs the user and password; below it ``/dav/readonly/`` refuses changes and ``/dav/private/``
    refuses everything with 403 (nginx answers a PUT that the file system refuses with 500, which no
    client can tell from a server fault, so "no permission" is expressed the way an admin would).
    ``/public/`` serves the same folder read-only without auth. Started as root, the workers run as
    ``www-data``, which owns the served folders.
    """

    def __init__(self, port: int | None = None) -> None:
        """Prepare (but do not start) a server; ``port`` defaults to a free loopback port."""
        self.host = HOST
        self.port = port or free_port()
        self.user = "davuser"
        self.password = secrets.token_urlsafe(12)
        self.base_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._worker: pwd.struct_passwd | None = None
        atexit.register(self._atexit)

    # ----------------------------------------------------------------- paths
    def _dir(self, name: str) -> Path:
        if self.base_dir is None:
            raise RuntimeError("server was never started")
        return self.base_dir / name

    @property
    def root(self) -> Path:
        """The local folder served at ``/dav/``."""
        return self._dir("www/dav")

    @property
    def readonly_root(self) -> Path:
        """The local folder served at ``/dav/readonly/``, where the server refuses every change (403)."""
        return self.root / "readonly"

    @property
    def private_root(self) -> Path:
        """The local folder served at ``/dav/private/``, where the server refuses every request (403)."""
        return self.root / "private"

    @property
    def config_path(self) -> Path:
        """The generated nginx.conf."""
        return self._dir("conf/nginx.conf")

    @property
    def error_log(self) -> Path:
        """nginx's error log (level info)."""
        return self._dir("logs/error.log")

    @property
    def pid(self) -> int | None:
        """Process id of the nginx master, or None when not running."""
        return self._proc.pid if self.is_running and self._proc else None

    @property
    def is_running(self) -> bool:
        """Tell whether the master process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def url(self, path: str = "/") -> str:
        """The http URL of ``path`` below ``/dav/`` (``url('/in')`` -> ``http://127.0.0.1:PORT/dav/in``)."""
        rel = path.lstrip("/")
        return f"http://{self.host}:{self.port}/dav/{quote(rel)}"

    def log_text(self) -> str:
        """The error log so far (empty if none)."""
        try:
            return self.error_log.read_text(errors="replace")
        except (OSError, RuntimeError):
            return ""

    # ----------------------------------------------------------------- setup
    def _setup(self) -> None:
        if self.base_dir is not None:
            return
        self.base_dir = Path(tempfile.mkdtemp(prefix="ta-nginx-", dir="/tmp"))
        self.base_dir.chmod(0o755)  # the workers must reach the served folder and the temp folders
        served = ["www/dav", "www/dav/readonly", "www/dav/private"]
        temps = ["tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"]
        for sub in ("conf", "logs", *served, *temps):
            self._dir(sub).mkdir(parents=True, mode=0o755, exist_ok=True)
        self._dir("conf/htpasswd").write_text(f"{self.user}:{_ssha(self.password)}\n")
        self._dir("conf/htpasswd").chmod(0o644)
        if os.geteuid() == 0:
            with contextlib.suppress(KeyError):
                self._worker = pwd.getpwnam(WORKER_USER)
        for sub in (*served, "tmp", *temps):
            self.give_to_server(self._dir(sub))

    def give_to_server(self, path: Path) -> Path:
        """Make a file or folder this process made below ``root`` owned by the server's workers."""
        if self._worker is not None:
            os.chown(path, self._worker.pw_uid, self._worker.pw_gid)
        return path

    def make_folder(self, rel: str) -> Path:
        """Create folder ``root/rel`` (and missing parents) the server can write; return its local path."""
        path = self.root
        for part in Path(rel).parts:
            path = path / part
            if not path.exists():
                path.mkdir(mode=0o755)
                self.give_to_server(path)
        return path

    def _config_text(self, module: Path) -> str:
        tmp = self._dir("tmp")
        user = f"user {self._worker.pw_name} {self._worker.pw_name};" if self._worker else ""
        return f"""
load_module {module};
{user}
daemon off;
master_process on;
worker_processes 1;
pid {self._dir("logs/nginx.pid")};
error_log {self.error_log} info;
events {{ worker_connections 256; }}
http {{
    access_log {self._dir("logs/access.log")};
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/plain txt; application/xml xml; text/csv csv; }}
    default_type application/octet-stream;
    sendfile on;
    server {{
        listen {self.host}:{self.port};
        server_name localhost;
        client_max_body_size 0;
        location /dav/ {{
            root {self._dir("www")};
            auth_basic "transferapp tests";
            auth_basic_user_file {self._dir("conf/htpasswd")};
            dav_methods PUT DELETE MKCOL COPY MOVE;
            dav_ext_methods PROPFIND OPTIONS;
            dav_access user:rw group:r all:r;
            create_full_put_path off;
            autoindex on;
            location /dav/readonly/ {{
                limit_except GET HEAD OPTIONS PROPFIND {{ deny all; }}
            }}
            location /dav/private/ {{
                deny all;
            }}
        }}
        location /public/ {{
            alias {self.root}/;
            limit_except GET HEAD {{ deny all; }}
            autoindex on;
        }}
    }}
}}
"""

    # ------------------------------------------------------------- lifecycle
    def start(self) -> NginxDav:
        """Write the config, start nginx in the foreground and wait until it answers HTTP."""
        if self.is_running:
            return self
        module = dav_ext_module()
        if not os.access(NGINX, os.X_OK) or module is None:
            raise RuntimeError(f"{NGINX} or its dav-ext module ({DAV_EXT}) is not installed")
        self._setup()
        self.config_path.write_text(self._config_text(module))
        prefix = str(self.base_dir) + "/"
        check = subprocess.run(
            [NGINX, "-t", "-q", "-p", prefix, "-e", str(self.error_log), "-c", str(self.config_path)],
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected its config: {check.stderr}")
        with open(self._dir("logs/stderr.log"), "ab") as err:
            self._proc = subprocess.Popen(
                [NGINX, "-p", prefix, "-e", str(self.error_log), "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                start_new_session=True,
            )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Poll until the port answers an HTTP request; raise with the error log otherwise."""
        deadline = time.monotonic() + timeout
        last = "no attempt"
        while True:
            if self._proc is None or self._proc.poll() is not None:
                rc = None if self._proc is None else self._proc.returncode
                raise RuntimeError(f"nginx exited (rc={rc}) before it was ready; log:\n{self.log_text()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                    sock.sendall(b"HEAD /public/ HTTP/1.0\r\n\r\n")
                    if sock.recv(64).startswith(b"HTTP/"):
                        return
                last = "no HTTP answer"
            except OSError as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise TimeoutError(f"nginx not ready on {self.host}:{self.port} ({last}); log:\n{self.log_text()}")
            time.sleep(0.05)

    def stop(self, cleanup: bool = True) -> None:
        """Stop nginx by its own pid (SIGQUIT, SIGKILL after 5 s); remove its files if ``cleanup``."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            workers = descendant_pids(proc.pid)
            send_signal(proc.pid, signal.SIGQUIT)  # graceful: workers finish their requests
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                send_signal(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            for pid in wait_gone(workers):
                send_signal(pid, signal.SIGKILL)
            wait_gone(workers)
        self._proc = None
        if cleanup:
            self.cleanup()

    def cleanup(self) -> None:
        """Remove the server's private folder (the server must be stopped)."""
        if self.base_dir is not None:
            for folder, _dirs, _files in os.walk(self.base_dir):  # a test may leave read-only folders
                with contextlib.suppress(OSError):
                    Path(folder).chmod(0o755)
            shutil.rmtree(self.base_dir, ignore_errors=True)
            self.base_dir = None

    def _atexit(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self.stop()
        self.cleanup()

    def __enter__(self) -> NginxDav:
        """Start the server."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server and remove its files."""
        self.stop()

    def __repr__(self) -> str:
        """Show where the server listens."""
        return f"NginxDav({self.host}:{self.port}, root={self.base_dir}, pid={self.pid})"
