"""Free TCP ports on 127.0.0.1."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (the OS picks it).

    There is a short race between closing the probe socket and the server
    binding; servers in this package fail fast (readiness probe sees the
    process exit) rather than hang if someone else took it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
