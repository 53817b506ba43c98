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
OAUTH2_EXAMPLE = ROOT / "accounts.oauth2.example.yaml"
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
    """Every variable the credentials name: passwords and the oauth2 secrets."""
    entries = [*document.get("smtp", []), *document.get("imap", [])]
    logins = [entry["credentials"] for entry in entries if "credentials" in entry]
    secrets = [login["password"] for login in logins if "password" in login] + [
        value for login in logins for value in login.get("oauth2", {}).values() if isinstance(value, dict)
    ]
    return {secret["env"] for secret in secrets}


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


# --- the second example: OAuth2 logins ------------------------------------------------------------------------


def test_oauth2_example_has_no_finding() -> None:
    result = engine.run(engine.CheckOptions(paths=(str(OAUTH2_EXAMPLE),)))
    assert result.findings == ()
    assert result.summary.accounts == 4
    assert result.exit_code(strict=True) == 0
    # Two providers, two outgoing servers: MC405 is answered in the file, by an inline comment with its reason.
    assert [(item.rule, item.suppression.kind if item.suppression else None) for item in result.suppressed] == [
        ("MC405", "inline")
    ]


def test_oauth2_example_checks_clean_on_the_command_line() -> None:
    run = subprocess.run([sys.executable, "-m", "validator", "check", "--strict", "accounts.oauth2.example.yaml"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout == "mailcfg: 1 file, 4 accounts: no problems (1 suppressed)\n"


def test_oauth2_example_shows_both_providers_and_their_unattended_flows() -> None:
    data = yaml.safe_load(OAUTH2_EXAMPLE.read_text(encoding="utf-8"))
    logins = {entry["id"]: entry["credentials"]["oauth2"] for entry in [*data["smtp"], *data["imap"]]
              if "credentials" in entry}
    grants = {key: ("service_account" if "service_account" in oauth2 else "client_secret", oauth2["provider"])
              for key, oauth2 in logins.items()}
    assert set(grants.values()) == {("client_secret", "microsoft"), ("service_account", "google")}
    assert {entry["host"] for entry in [*data["smtp"], *data["imap"]]} == {
        "smtp.office365.com", "outlook.office365.com", "smtp.gmail.com", "imap.gmail.com",
    }


def test_oauth2_example_secrets_are_covered_by_the_recommended_allow_env() -> None:
    text = OAUTH2_EXAMPLE.read_text(encoding="utf-8")
    variables = _variables(yaml.safe_load(text))
    assert variables == {"MAILCFG_M365_CLIENT_SECRET", "MAILCFG_GOOGLE_SA_KEY"}
    assert all(fnmatch.fnmatchcase(name, RECOMMENDED_ALLOW_ENV) for name in variables)
    assert f"--allow-env '{RECOMMENDED_ALLOW_ENV}'" in text
    # The token endpoints are hosts like the mail servers: the recipe in its comment allows them too.
    assert "--allow-host login.microsoftonline.com" in text
    assert "oauth2.googleapis.com" in text


def test_readme_oauth2_section_shows_valid_credentials_and_the_trust_flags() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## OAuth2 (Microsoft 365, Google)\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"(?ms)^```yaml\n(.*?)^```$", section)
    credentials = yaml.safe_load(block)["credentials"]
    example = yaml.safe_load(OAUTH2_EXAMPLE.read_text(encoding="utf-8"))
    (info,) = [entry for entry in example["imap"] if entry["id"] == "info"]
    assert credentials == {**info["credentials"], "contact": credentials["contact"]}  # the example's login
    for needed in ("--allow-host login.microsoftonline.com", "--allow-command PROGRAM", "MC307", "MC512",
                   "(docs/oauth2.md)", "(accounts.oauth2.example.yaml)"):
        assert needed in section, needed
    assert "(#oauth2-microsoft-365-google)" in text  # the credentials table links the section
