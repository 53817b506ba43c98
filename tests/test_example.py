"""The shipped example is clean, and both entry points report it the same way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from validator import engine

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "accounts.example.yaml"


def test_example_has_no_finding() -> None:
    result = engine.run(engine.CheckOptions(paths=(str(EXAMPLE),)))
    assert result.findings == ()
    assert result.summary.accounts == 4
    assert result.exit_code(strict=True) == 0


def test_console_script_and_module_agree() -> None:
    module = subprocess.run([sys.executable, "-m", "validator", "check", "accounts.example.yaml"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    script = subprocess.run([str(Path(sys.executable).parent / "mailcfg"), "check", "accounts.example.yaml"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert module.returncode == script.returncode == 0
    assert module.stdout == script.stdout == "mailcfg: 1 file, 4 accounts: no problems\n"
