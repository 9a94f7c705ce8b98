"""A subprocess with a log file, a readiness probe and guaranteed cleanup."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx

from .wait import WaitTimeout, wait_until


class ProcessFailed(AssertionError):
    """The process exited or never became ready; carries the tail of its log."""


@dataclass
class ManagedProcess:
    """One child process. `start()` launches it with stdout+stderr into
    `log_path`; `stop()` terminates it (then kills it) and is idempotent."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    proc: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> "ManagedProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - owned by the child for its lifetime
        try:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=self.env, cwd=self.cwd)
        finally:
            log.close()  # the child holds its own descriptor
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, probe: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll `probe` until true; fail at once (with the log) if the process dies."""

        def ready() -> bool:
            if not self.running():
                raise ProcessFailed(f"{self.name} exited with {self.proc.returncode if self.proc else '?'}:\n"
                                    f"{self.log_tail()}")
            return probe()

        try:
            wait_until(ready, timeout, interval=0.1, what=f"{self.name} to become ready")
        except WaitTimeout as exc:
            cause = exc.__cause__
            if isinstance(cause, ProcessFailed):
                raise cause from None
            raise ProcessFailed(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}") from exc

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness probe: GET `url` answers 200."""

    def probe() -> bool:
        return httpx.get(url, timeout=2.0).status_code == 200

    return probe


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without the demo app's and OTel's variables
    (a developer's shell must not change what a test runs), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOKIT_APP_", "OTEL_"))}
    env.update(extra)
    return env


class LoopbackServer:
    """What every test server shares: an address on 127.0.0.1, stop, and `with`.

    Subclasses are dataclasses with `port` and `process` fields and a `start()`
    that returns self.
    """

    port: int
    process: ManagedProcess | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0):  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
