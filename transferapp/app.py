"""Wires the parts of one installation together: paths, config, database, queue, log, secrets, host keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from transferapp.config import Config, load_config
from transferapp.paths import AppPaths, app_paths
from transferapp.secrets import SecretStore
from transferapp.store.db import Database
from transferapp.store.log import TransferLog
from transferapp.store.queue import TransferQueue
from transferapp.transports.hostkeys import HostKeyStore

if TYPE_CHECKING:
    from transferapp.pgp.keystore import KeyStore


@dataclass
class AppContext:
    """Everything a command, the GUI or the agent needs."""

    paths: AppPaths
    config: Config
    db: Database
    queue: TransferQueue
    log: TransferLog
    secrets: SecretStore
    hostkeys: HostKeyStore

    def keys(self) -> KeyStore:
        """The OpenPGP key store (imports pysequoia only when keys are needed)."""
        from transferapp.pgp.keystore import KeyStore

        return KeyStore(self.paths.data_dir / "keys", self.secrets)

    def reload_config(self) -> Config:
        """Read the config file again (after another process changed it)."""
        self.config = load_config(self.paths.config_file)
        return self.config


def open_app(paths: AppPaths | None = None, secrets: SecretStore | None = None) -> AppContext:
    """Open (and create when missing) the installation at ``paths`` or the default one."""
    paths = (paths or app_paths()).ensure()
    db = Database(paths.database_file)
    return AppContext(
        paths=paths,
        config=load_config(paths.config_file),
        db=db,
        queue=TransferQueue(db),
        log=TransferLog(db),
        secrets=secrets or SecretStore(),
        hostkeys=HostKeyStore(paths.known_hosts_file),
    )
