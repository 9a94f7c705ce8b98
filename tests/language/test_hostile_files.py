"""Hostile files in and around the spec directory: the corpus cases that need the file system at test time.

FIFOs (as a spec, a discovered catalog, `--catalog`), unreadable files and
directories (run as the unprivileged user `nobody`, since root reads
everything), files over the size limits, links to secrets given on the
command line, and `generate` with an unreadable spec (it must not prune that
service). The behaviour is about the process, so every case runs the real
`slokit` in a subprocess; a hang would hit the timeout and fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from slokit import load, project
from slokit import naming as N

REPO = Path(__file__).resolve().parents[2]
SLOKIT = [sys.executable, "-m", "slokit"]
NOBODY = 65534


def run(cwd: Path, *args: str, user: int | None = None) -> subprocess.CompletedProcess:
    # setpriv (util-linux, part of every Debian) drops root for the permission cases.
    drop = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user is not None else []
    proc = subprocess.run([*drop, *SLOKIT, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "slos", tmp_path / "slos")
    return tmp_path


@pytest.fixture
def shared_tmp():
    """A directory `nobody` can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="slokit-hostile-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_a_fifo_spec_fails_at_once(specs):
    os.mkfifo(specs / "slos" / "pipe.yaml")
    proc = run(specs, "validate")
    assert proc.returncode == 1
    assert proc.stderr == ("slos/pipe.yaml:1:1: is not a regular file (a FIFO, socket or device)\n"
                           "  hint: slokit reads only regular files; remove it from the spec directory\n1 error\n")


def test_a_fifo_named_on_the_command_line_fails_at_once(specs):
    os.mkfifo(specs / "pipe.yaml")
    proc = run(specs, "validate", "pipe.yaml", "--catalog", "slos/catalog.yaml")
    assert proc.returncode == 1
    assert proc.stderr.startswith("pipe.yaml:1:1: is not a regular file (a FIFO, socket or device)\n")


def test_a_fifo_as_catalog_fails_at_once(specs):
    os.mkfifo(specs / "catalog-pipe")
    proc = run(specs, "validate", "--catalog", "catalog-pipe")
    assert proc.returncode == 1
    assert proc.stderr.startswith("catalog-pipe:1:1: is not a regular file (a FIFO, socket or device)\n")


def test_a_fifo_as_the_discovered_catalog_fails_at_once(specs):
    (specs / "slos" / "catalog.yaml").unlink()
    os.mkfifo(specs / "slos" / "catalog.yaml")
    proc = run(specs, "validate")
    assert proc.returncode == 1
    assert proc.stderr.startswith("slos/catalog.yaml:1:1: is not a regular file (a FIFO, socket or device)\n")


def test_a_catalog_symlinked_from_outside_the_spec_directory_is_refused(specs):
    shutil.move(specs / "slos" / "catalog.yaml", specs / "catalog.yaml")
    (specs / "slos" / "catalog.yaml").symlink_to(specs / "catalog.yaml")
    proc = run(specs, "validate")
    assert proc.returncode == 1
    assert proc.stderr.startswith("slos/catalog.yaml:1:1: is a symlink to a file outside the spec directory")
    assert run(specs, "validate", "--catalog", "catalog.yaml").returncode == 0  # named explicitly: fine


def test_a_symlink_inside_the_spec_directory_is_followed(specs):
    (specs / "slos" / "alias.yml").symlink_to("support-chatbot.yaml")
    proc = run(specs, "validate")
    assert proc.returncode == 0, proc.stderr


def test_an_unreadable_spec_is_a_positioned_error(shared_tmp):
    shutil.copytree(REPO / "slos", shared_tmp / "slos")
    for p in [shared_tmp / "slos", *(shared_tmp / "slos").iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    (shared_tmp / "slos" / "rag-assistant.yaml").chmod(0o000)
    proc = run(shared_tmp, "validate", user=NOBODY)
    assert proc.returncode == 1
    assert proc.stderr == ("slos/rag-assistant.yaml:1:1: cannot read file: Permission denied\n"
                           "  hint: make it readable, or move it out of the spec directory\n1 error\n")


def test_an_unlistable_directory_is_a_positioned_error(shared_tmp):
    shutil.copytree(REPO / "slos", shared_tmp / "slos")
    (shared_tmp / "slos").chmod(0o311)  # enter, not list: catalog.yaml is found, the specs are not
    for p in (shared_tmp / "slos").iterdir():
        p.chmod(0o644)
    proc = run(shared_tmp, "validate", user=NOBODY)
    assert proc.returncode == 1
    assert proc.stderr == ("slos:1:1: cannot list the directory: Permission denied\n"
                           "  hint: check its permissions, or pass the spec files themselves\n1 error\n")


def test_a_link_to_a_secret_named_on_the_command_line_is_not_echoed(specs):
    secret = specs / "token"
    secret.write_text("ghp_0123456789abcdefSECRET\n")
    proc = run(specs, "validate", "token", "--catalog", "slos/catalog.yaml")
    assert proc.returncode == 1
    assert "SECRET" not in proc.stderr and "ghp_" not in proc.stderr
    assert "not a single value" not in proc.stderr or "the file must be a mapping" in proc.stderr
    passwd = run(specs, "validate", "/etc/passwd", "--catalog", "slos/catalog.yaml")
    assert passwd.returncode == 1 and "root:" not in passwd.stderr and "/bin/" not in passwd.stderr


def test_a_spec_over_the_per_file_limit_is_refused_before_parsing(specs):
    big = specs / "slos" / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(load.MAX_FILE_BYTES + 1)  # sparse: size is checked before a byte is read
    proc = run(specs, "validate")
    assert proc.returncode == 1
    assert proc.stderr == ("slos/big.yaml:1:1: file is larger than 1 MiB, the most slokit reads from one file\n"
                           "  hint: split it: one spec file per service\n1 error\n")


def test_inputs_over_the_total_limit_are_refused_before_parsing(specs):
    count = project.MAX_TOTAL_BYTES // load.MAX_FILE_BYTES + 1
    for i in range(count):
        with open(specs / "slos" / f"s{i:03}.yaml", "wb") as f:
            f.truncate(load.MAX_FILE_BYTES)  # each within the per-file limit
    proc = run(specs, "validate")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0].endswith(":1:1: the input files add up to more than 16 MiB (reached at this file), "
                             "the most slokit reads in one run")
    assert lines[1] == "  hint: split the project: run slokit on a few spec directories at a time, each with its own --out"
    assert lines[2:] == ["1 error"]


@pytest.mark.parametrize("kind", ["dangling", "directory", "fifo"])
def test_generate_does_not_prune_a_service_whose_spec_cannot_be_read(specs, kind):
    assert run(specs, "generate").returncode == 0
    spec = specs / "slos" / "rag-assistant.yaml"
    spec.unlink()
    {"dangling": lambda: spec.symlink_to("gone.yaml"), "directory": spec.mkdir, "fifo": lambda: os.mkfifo(spec)}[kind]()
    proc = run(specs, "generate")
    assert proc.returncode == 1 and proc.stderr.startswith("slos/rag-assistant.yaml:1:1: ")
    assert (specs / N.rules_path("rag-assistant")).exists() and (specs / N.runbook_path("rag-assistant")).exists()
    assert run(specs, "validate").returncode == 1  # no longer "ok" with a service silently missing
