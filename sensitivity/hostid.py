"""Who is working: the host name recorded in heartbeats, trial records and ``resolved.json``.

``SENSITIVITY_HOST`` overrides the machine's host name (a scheduler's node name, or distinct
identities for several "hosts" started on one machine in tests); a worker is ``host:pid``.
"""

from __future__ import annotations

import os
import socket

__all__ = ["HOST_ENV", "host_name", "worker_id"]

HOST_ENV = "SENSITIVITY_HOST"


def host_name() -> str:
    """``$SENSITIVITY_HOST`` if set and not empty, else ``socket.gethostname()``."""
    return os.environ.get(HOST_ENV, "").strip() or socket.gethostname()


def worker_id() -> str:
    """``host:pid`` of this process."""
    return f"{host_name()}:{os.getpid()}"
