"""Render stack/docker-compose.yml with a real Compose implementation.

Debian's `docker-compose` (1.29) renders `config` without a Docker engine:
it parses the file, checks it against the compose schema, interpolates
variables and resolves relative paths. Tests use it instead of re-parsing
the YAML themselves, so what they check is what Compose would run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "stack" / "docker-compose.yml"
# Variables the stack requires (`${VAR:?message}`); any value renders.
REQUIRED_VARS = {"GF_ADMIN_PASSWORD": "test-only-password", "SLOKIT_APP_ADMIN_TOKEN": "test-only-token"}


@dataclass(frozen=True)
class ComposeResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def config(self) -> dict[str, Any]:
        assert self.returncode == 0, self.stderr
        return yaml.safe_load(self.stdout)


def compose_binary() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        raise AssertionError("docker-compose is not installed: run `make system-deps` (Debian package docker-compose)")
    return path


def compose_config(tmp_dir: Path, variables: dict[str, str] | None = None,
                   compose_file: Path = COMPOSE_FILE) -> ComposeResult:
    """`docker-compose -f <file> --env-file <empty> config` with exactly
    `variables` (default: the required ones) in the environment.

    An empty env file stands in for stack/.env so a developer's real .env (or
    exported secrets) cannot make a test pass or fail.
    """
    env_file = tmp_dir / "empty.env"
    env_file.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_VARS and not k.startswith("COMPOSE_")}
    env.update(REQUIRED_VARS if variables is None else variables)
    out = subprocess.run([compose_binary(), "-f", str(compose_file), "--env-file", str(env_file), "config"],
                         capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)
    return ComposeResult(out.returncode, out.stdout, out.stderr)
