"""What every background worker (the reminder scheduler, the push worker) shares."""

from __future__ import annotations

import os
import socket
import uuid


def default_worker_id() -> str:
    """A name for this worker that no other process has: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
