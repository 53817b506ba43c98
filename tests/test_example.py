"""The shipped example is clean, both entry points report it the same way, and its secrets fit `--allow-env`."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from validator import engine

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "accounts.example.yaml"
README = ROOT / "README.md"
# The pattern the README recommends for CI: `mailcfg verify --allow-env 'MAILCFG_*'`.
RECOMMENDED_ALLOW_ENV = "MAILCFG_*"
EXAMPLE_VARIABLES = {
    "MAILCFG_SMTP_PASSWORD",
    "MAILCFG_IMAP_INFO_PASSWORD",
    "MAILCFG_IMAP_ANNA_PASSWORD",
    "MAILCFG_IMAP_BEN_PASSWORD",
}


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


def _variables(document: dict[str, Any]) -> set[str]:
    entries = [*document.get("smtp", []), *document.get("imap", [])]
    return {entry["credentials"]["password"]["env"] for entry in entries if "credentials" in entry}


def test_example_secrets_are_covered_by_the_recommended_allow_env() -> None:
    """Every password of the example is read under `--allow-env 'MAILCFG_*'`, so the CI recipe works on it."""
    variables = _variables(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    assert variables == EXAMPLE_VARIABLES
    assert all(fnmatch.fnmatchcase(name, RECOMMENDED_ALLOW_ENV) for name in variables)
    assert f"--allow-env '{RECOMMENDED_ALLOW_ENV}'" in EXAMPLE.read_text(encoding="utf-8")


def test_readme_format_example_uses_the_examples_variables() -> None:
    """The README's format section shows a part of the example, with the same variable names."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## The format (version 1)\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"(?ms)^```yaml\n(.*?)^```$", section)[:1]
    variables = _variables(yaml.safe_load(block))
    assert variables
    assert variables <= EXAMPLE_VARIABLES
    old_names = {name.removeprefix("MAILCFG_") for name in EXAMPLE_VARIABLES}
    assert not any(re.search(rf"{{env: {name}}}", text) for name in old_names), "the README names an old variable"
