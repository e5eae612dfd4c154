"""The desktop app's link to the core: the context, the in-process agent (jobs + engine), pause, send, cancel."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from transferapp.app import AppContext, open_app
from transferapp.config import Connection
from transferapp.encryption import EncryptPolicy
from transferapp.gui.bridge import EventBridge

if TYPE_CHECKING:
    from transferapp.jobs.agent import Agent, AgentLock
from transferapp.outcomes import cancel_transfer
from transferapp.store.queue import QueueItem
from transferapp.uploads import QueuedUpload, queue_upload

log = logging.getLogger(__name__)


class Backend(QObject):
    """Owns the AppContext of the GUI thread and runs the agent on its own threads (with its own context)."""

    config_changed = Signal()  # connections, jobs or keys were changed by the GUI
    agent_state_changed = Signal(str)  # "running", "paused", or "elsewhere" (another agent process runs jobs)
    notify = Signal(str, str, str)  # title, message, level ("info", "warning", "error"): a desktop notification

    def __init__(self, ctx: AppContext | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx or open_app()
        self.events = EventBridge(self)
        self._lock: AgentLock | None = None
        self._agent: Agent | None = None
        self._thread: threading.Thread | None = None
        self.state = "stopped"

    # -- the agent ---------------------------------------------------------------------------------
    def start(self) -> str:
        """Run jobs and transfers in this process unless another agent does; returns the new state."""
        if self._agent is not None:
            return self.state
        from transferapp.jobs.agent import Agent, AgentLock  # the engine and jobs load after the window shows

        self._lock = self._lock or AgentLock(self.ctx.paths.data_dir / "agent.lock")
        if not self._lock.acquire():
            return self._set_state("elsewhere")
        agent_ctx = open_app(self.ctx.paths, self.ctx.secrets)
        self._agent = Agent(agent_ctx, sink=self.events)
        self._thread = threading.Thread(target=self._agent.run, name="agent", daemon=True)
        self._thread.start()
        return self._set_state("running")

    def pause(self) -> None:
        """Stop the engine and the jobs; running transfers stop resumable and continue on resume."""
        self._stop_agent()
        self._set_state("paused")

    def resume(self) -> None:
        """Start the agent again after pause."""
        self.start()

    def set_paused(self, paused: bool) -> None:
        """Pause or resume (the menu and the tray's check mark); nothing to do while another agent runs."""
        if paused and self.state == "running":
            self.pause()
        elif not paused and self.state == "paused":
            self.resume()

    def shutdown(self) -> None:
        """Stop everything before the app quits."""
        self._stop_agent()
        self.state = "stopped"

    def agent_holder(self) -> str:
        """The pid of the other agent process, when state is 'elsewhere'."""
        return self._lock.holder() if self._lock is not None else "unknown"

    def _stop_agent(self) -> None:
        if self._agent is not None:
            self._agent.stop_event.set()
            if self._thread is not None:
                self._thread.join(timeout=60)
            self._agent = None
            self._thread = None
            if self._lock is not None:
                self._lock.release()

    def _set_state(self, state: str) -> str:
        self.state = state
        self.agent_state_changed.emit(state)
        return state

    # -- actions -----------------------------------------------------------------------------------
    def connection(self, name: str) -> Connection:
        """A connection by name (raises ConfigError naming the fix when unknown)."""
        return self.ctx.config.connection(name)

    def send(
        self, connection: str, paths: list[str], remote_dir: str | None, policy: EncryptPolicy | None
    ) -> QueuedUpload:
        """Queue files and folders for upload; the agent's engine sends them."""
        return queue_upload(self.ctx, self.connection(connection), paths, remote_dir, policy)

    def cancel(self, item_id: int) -> QueueItem:
        """Cancel a queued or running transfer (the engine stops it within a second)."""
        return cancel_transfer(self.ctx, item_id)

    def retry(self, item_id: int) -> QueueItem:
        """Queue a failed or cancelled transfer again."""
        return self.ctx.queue.retry(item_id)

    def save_config(self) -> None:
        """Write the config file and tell the pages; the agent picks the change up within a second."""
        self.ctx.config.save()
        self.config_changed.emit()
