"""The canary test: a secret written into (or referenced by) the YAML never appears in any output.

A recognisable canary is put everywhere a secret may land: as a plaintext password, in odd shapes under a
password key, under a mistyped key, in lines the parser cannot read, and as the *value* of an environment
variable that ``{env: NAME}`` refers to. Every report format, with and without ``--output``, in-process
and as a real subprocess, must not contain it, while the run still reports what it should (MC301...).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from builders import M365_APP_ONLY, VALID, Cli, imap_entry, in_account, with_credentials, with_host, with_oauth2
from monitoring import exit_code_for

from validator.reporters import FORMATS

CANARY = "CANARY-7f3a9c-s3cr3t"
ENV_CANARY = "CANARY-env-5d81e0-v4lu3"
ENV_FILE_CANARY = "CANARY-dotenv-22c4b7-v4lu3"
PASSWORD_LINE = "      password: {env: SMTP_PASSWORD}\n"  # line 11 of VALID: the smtp credentials
M365_HEAD = M365_APP_ONLY[:3]  # an app-only Microsoft 365 `oauth2` block up to its client secret
assert PASSWORD_LINE in VALID


def with_password(text: str) -> str:
    """VALID with the smtp password line replaced by ``text`` (one or more whole lines)."""
    return VALID.replace(PASSWORD_LINE, text.rstrip("\n") + "\n", 1)


# id -> (YAML, rules the run must report, secrets that must not appear)
CASES: dict[str, tuple[str, set[str], tuple[str, ...]]] = {
    "plain": (with_password(f"      password: {CANARY}"), {"MC301"}, (CANARY,)),
    "double-quoted": (with_password(f'      password: "{CANARY}"'), {"MC301"}, (CANARY,)),
    "single-quoted": (with_password(f"      password: '{CANARY}'"), {"MC301"}, (CANARY,)),
    "block-literal": (
        with_password(f"      password: |\n        {CANARY}\n        second-line-{CANARY}"),
        {"MC301"},
        (CANARY,),
    ),
    "folded": (with_password(f"      password: >-\n        {CANARY}"), {"MC301"}, (CANARY,)),
    "plain-multiline": (
        with_password(f"      password: {CANARY}\n        continued-{CANARY}"),
        {"MC301"},
        (CANARY,),
    ),
    "anchored": (
        with_password(f"      password: &pw {CANARY}").replace(
            "{env: IMAP_INFO_PASSWORD}", "*pw"
        ),
        {"MC301"},
        (CANARY,),
    ),
    "flow-list": (with_password(f"      password: [{CANARY}]"), {"MC103"}, (CANARY,)),
    "block-list": (with_password(f"      password:\n        - {CANARY}"), {"MC103"}, (CANARY,)),
    "mapping-value": (with_password(f"      password: {{value: {CANARY}}}"), {"MC102"}, (CANARY,)),
    "env-invalid-name": (with_password(f"      password: {{env: {CANARY}}}"), {"MC104"}, (CANARY,)),
    "env-list": (with_password(f"      password: {{env: [{CANARY}]}}"), {"MC103"}, (CANARY,)),
    "env-extra-key": (with_password(f"      password: {{env: SMTP_PASSWORD, value: {CANARY}}}"), {"MC102"}, (CANARY,)),
    # A command's arguments may hold anything: masked like a secret, never echoed (a file path is shown).
    "command-and-env": (
        with_password(f"      password: {{env: SMTP_PASSWORD, command: [op, {CANARY}]}}"), {"MC104"}, (CANARY,)
    ),
    "command-not-a-list": (with_password(f"      password: {{command: {CANARY}}}"), {"MC103"}, (CANARY,)),
    "file-a-list": (with_password(f"      password: {{file: [{CANARY}]}}"), {"MC103"}, (CANARY,)),
    "file-extra-key": (
        with_password(f"      password: {{file: /run/secrets/x, value: {CANARY}}}"), {"MC102"}, (CANARY,)
    ),
    "duplicate-key-plain-last": (
        with_password(f"      password: {{env: SMTP_PASSWORD}}\n      password: {CANARY}"),
        {"MC002", "MC301"},
        (CANARY,),
    ),
    "duplicate-key-plain-first": (
        with_password(f"      password: {CANARY}\n      password: {{env: SMTP_PASSWORD}}"),
        {"MC002"},
        (CANARY,),
    ),
    # Long numbers: a short one (45296) once turned up by chance inside a SARIF fingerprint's hex digits.
    "yaml11-octal": (
        with_password("      password: 0123456701234567"), {"MC003", "MC301"}, ("0123456701234567", "5744368105847")
    ),
    "yaml11-sexagesimal": (
        with_password("      password: 9876543:21:09"), {"MC003", "MC301"}, ("9876543:21:09", "35555556069")
    ),
    "yaml11-underscore": (
        with_password("      password: 98_765_432_109_876"),
        {"MC003", "MC301"},
        ("98_765_432_109_876", "98765432109876"),
    ),
    "syntax-error-colon": (with_password(f"      password: {CANARY}: x"), {"MC001"}, (CANARY,)),
    "syntax-error-percent": (with_password(f"      password: %{CANARY}"), {"MC001"}, (CANARY,)),
    "syntax-error-escape": (with_password(f'      password: "{CANARY}\\q"'), {"MC001"}, (CANARY,)),
    "syntax-error-unclosed-quote": (with_password(f"      password: '{CANARY}"), {"MC001"}, (CANARY,)),
    "starts-like-an-alias": (with_password(f"      password: *{CANARY}"), {"MC001"}, (CANARY,)),
    "starts-like-a-tag": (with_password(f"      password: !{CANARY}"), {"MC004"}, (CANARY,)),
    "braces-around-the-secret": (with_password(f"      password: {{{CANARY}}}"), {"MC101"}, (CANARY,)),
    "mistyped-key": (
        with_password(f"{PASSWORD_LINE}      passwort: {CANARY}"),
        {"MC102"},
        (CANARY,),
    ),
    "misspelled-key": (
        with_password(f"{PASSWORD_LINE}      pasword: {CANARY}"),
        {"MC102"},
        (CANARY,),
    ),
    "token-key": (with_password(f"{PASSWORD_LINE}      token: {CANARY}"), {"MC102"}, (CANARY,)),
    "top-level-secret": (VALID + f"secret: {CANARY}\n", {"MC102"}, (CANARY,)),
    # A connection URL pasted into `host:`: its `user:password@` never shows, in the message nor the line.
    "host-url": (with_host(f"imaps://info:{CANARY}@imap.example.com"), {"MC106"}, (CANARY,)),
    "host-userinfo": (with_host(f"info:{CANARY}@imap.example.com"), {"MC106"}, (CANARY,)),
    "host-url-quoted": (with_host(f'"imaps://info:{CANARY}@imap.example.com"'), {"MC106"}, (CANARY,)),
    "host-url-token": (with_host(f"https://{CANARY}@imap.example.com"), {"MC106"}, (CANARY,)),
    "host-url-syntax-error": (with_host(f"imaps://info:{CANARY}@imap.example.com: x"), {"MC001"}, (CANARY,)),
    # Flat password-like keys of an account: masked, and MC301 besides the unknown key.
    **{
        f"flat-{key}": (in_account(f"{key}: {CANARY}"), {"MC102", "MC301"}, (CANARY,))
        for key in ("pass", "pw", "pin", "key", "auth", "credential", "Pass")
    },
    "flat-pin-number": (in_account("pin: 7355608"), {"MC102", "MC301"}, ("7355608",)),
    "flat-url": (in_account(f"url: imaps://info:{CANARY}@imap.example.com"), {"MC102", "MC301"}, (CANARY,)),
    "flat-login": (in_account(f'login: "info:{CANARY}"'), {"MC102", "MC301"}, (CANARY,)),
    "flat-user-entry": (
        VALID.replace("  - id: anna\n", f"  - id: anna\n    pin: {CANARY}\n"),
        {"MC102", "MC301"},
        (CANARY,),
    ),
    "flat-syntax-error": (in_account(f"pass: {CANARY}: x"), {"MC001"}, (CANARY,)),
    # `credentials` as a string or a list: any scalar under it is masked.
    "credentials-string": (with_credentials(f'"info:{CANARY}"'), {"MC103"}, (CANARY,)),
    "credentials-plain": (with_credentials(f"info {CANARY}"), {"MC103"}, (CANARY,)),
    "credentials-list": (with_credentials(f"[info, {CANARY}]"), {"MC103"}, (CANARY,)),
    "credentials-syntax-error": (with_credentials(f"info:{CANARY}: x"), {"MC001"}, (CANARY,)),
    # A password pasted as a key of `credentials`: not echoed, not in the JSON pointer, masked.
    "credentials-key": (with_password(f"{PASSWORD_LINE}      {CANARY}: 1"), {"MC102"}, (CANARY,)),
    "credentials-key-only": (with_password(f"      {CANARY}:"), {"MC101", "MC102"}, (CANARY,)),
    "credentials-key-duplicate": (
        with_password(f"{PASSWORD_LINE}      {CANARY}: 1\n      {CANARY}: 2"),
        {"MC002", "MC102"},
        (CANARY,),
    ),
    "credentials-key-yaml11": (with_password(f"{PASSWORD_LINE}      {CANARY}: 0777"), {"MC003", "MC102"}, (CANARY,)),
    # `password:secret`: no space after the colon, so YAML reads it as text.
    "no-space-continuation": (with_password(f"        password:{CANARY}"), {"MC101", "MC301"}, (CANARY,)),
    "no-space-same-level": (with_password(f"      password:{CANARY}"), {"MC001"}, (CANARY,)),
    "no-space-last-line": (
        VALID.replace(
            "      password: {env: IMAP_INFO_PASSWORD}\n      contact: IT desk\n", f"      password:{CANARY}\n"
        ),
        {"MC001"},
        (CANARY,),
    ),
    "no-space-flow": (
        VALID.replace(
            "    credentials:\n      username: mailer@example.com\n" + PASSWORD_LINE + "      contact: IT desk\n",
            f"    credentials: {{username: mailer@example.com, password:{CANARY}}}\n",
        ),
        {"MC101", "MC102", "MC301"},
        (CANARY,),
    ),
    "no-space-account-key": (in_account(f"password:{CANARY}: 1"), {"MC102", "MC301"}, (CANARY,)),
    "no-space-credentials-value": (with_credentials(f"password:{CANARY}"), {"MC103", "MC301"}, (CANARY,)),
    # The secrets of an `oauth2` login (client secret, refresh token, service-account key) in the same shapes.
    "oauth2-client-secret": (with_oauth2(*M365_HEAD, f"client_secret: {CANARY}"), {"MC301"}, (CANARY,)),
    "oauth2-client-secret-quoted": (with_oauth2(*M365_HEAD, f"client_secret: '{CANARY}'"), {"MC301"}, (CANARY,)),
    "oauth2-refresh-token": (
        with_oauth2(*M365_HEAD, "client_secret: {env: SMTP_PASSWORD}", f"refresh_token: {CANARY}"),
        {"MC301"},
        (CANARY,),
    ),
    "oauth2-service-account": (with_oauth2("provider: google", f"service_account: {CANARY}"), {"MC301"}, (CANARY,)),
    "oauth2-service-account-block-scalar": (
        with_oauth2("provider: google", f'service_account: |\n          {{"private_key": "{CANARY}"}}'),
        {"MC301"},
        (CANARY,),
    ),
    "oauth2-service-account-json": (
        with_oauth2("provider: google", f'service_account: {{"type": "service_account", "private_key": "{CANARY}"}}'),
        {"MC301", "MC102"},
        (CANARY,),
    ),
    "oauth2-service-account-mapping": (
        with_oauth2("provider: google", f"service_account:\n          private_key: {CANARY}"),
        {"MC301", "MC102"},
        (CANARY,),
    ),
    "oauth2-env-list": (with_oauth2(*M365_HEAD, f"client_secret: {{env: [{CANARY}]}}"), {"MC103"}, (CANARY,)),
    "oauth2-access-token-key": (with_oauth2(*M365_APP_ONLY, f"access_token: {CANARY}"), {"MC102"}, (CANARY,)),
    "oauth2-secret-as-key": (with_oauth2(*M365_APP_ONLY, f"{CANARY}: 1"), {"MC102"}, (CANARY,)),
    "oauth2-no-space": (with_oauth2(*M365_HEAD, f"client_secret:{CANARY}"), {"MC001"}, (CANARY,)),
}

RULE_IN_TEXT = re.compile(r"\[(MC\d{3})\]")


def _assert_clean(secrets: tuple[str, ...], **outputs: str) -> None:
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked into {where}:\n{text}"


def _rules(fmt: str, report: str) -> set[str]:
    if fmt == "json":
        return {item["rule"] for item in json.loads(report)["findings"]}
    return set(RULE_IN_TEXT.findall(report))


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.env"
    path.write_text(f"IMAP_INFO_PASSWORD={ENV_FILE_CANARY}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_canary_never_printed_in_process(
    case: str, cli: Cli, tmp_path: Path, env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, expected, secrets = CASES[case]
    monkeypatch.setenv("SMTP_PASSWORD", ENV_CANARY)
    config = tmp_path / "accounts.yaml"
    config.write_text(source, encoding="utf-8")
    secrets = (*secrets, ENV_CANARY, ENV_FILE_CANARY)
    flag_sets = [(), ("--strict",), ("--require-env",), ("--require-env", "--env-file", str(env_file), "--strict")]
    assert set(FORMATS) >= {"text", "json"}
    for fmt in FORMATS:
        for flags in flag_sets:
            code, out, err = cli("check", "--format", fmt, *flags, str(config))
            assert code == exit_code_for(fmt, 1), (fmt, flags, out, err)
            _assert_clean(secrets, stdout=out, stderr=err)
            if fmt in ("json", "text"):
                assert expected <= _rules(fmt, out), (fmt, flags, out)
            report = tmp_path / f"report.{fmt}"
            code, out, err = cli("check", "--format", fmt, "--output", str(report), *flags, str(config))
            assert code == 1
            assert out == ""
            written = report.read_text(encoding="utf-8")
            _assert_clean(secrets, stdout=out, stderr=err, output_file=written)
            if fmt in ("json", "text"):
                assert expected <= _rules(fmt, written)


@pytest.mark.parametrize("case", list(CASES))
def test_canary_never_printed_in_colour(case: str, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, _, secrets = CASES[case]
    config = tmp_path / "accounts.yaml"
    config.write_text(source, encoding="utf-8")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = cli("check", str(config))
    assert code == 1
    assert "\x1b[" in out  # really the coloured report
    _assert_clean(secrets, stdout=out, stderr=err)


@pytest.mark.parametrize("case", list(CASES))
def test_canary_never_in_the_github_step_summary(
    case: str, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In GitHub Actions every run also appends a Markdown table of its findings to the job's summary page.
    source, expected, secrets = CASES[case]
    config = tmp_path / "accounts.yaml"
    config.write_text(source, encoding="utf-8")
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for fmt in FORMATS:
        code, out, err = cli("check", "--format", fmt, str(config))
        assert code == exit_code_for(fmt, 1)
        _assert_clean(secrets, stdout=out, stderr=err)
    written = summary.read_text(encoding="utf-8")
    assert written.count("### mailcfg") == len(FORMATS)
    assert expected <= set(re.findall(r"^\| (MC\d{3}) \|", written, re.MULTILINE))
    _assert_clean(secrets, step_summary=written)


def test_plaintext_password_is_masked_in_the_source_line(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "accounts.yaml"
    config.write_text(CASES["plain"][0], encoding="utf-8")
    code, out, _ = cli("check", str(config))
    assert code == 1
    assert f"{config}:11:17: error[MC301] plaintext password" in out
    assert "   11 |       password: ****\n" in out


def test_plaintext_password_dropped_by_a_duplicate_key_is_still_mc301(cli: Cli, tmp_path: Path) -> None:
    # The plaintext password sits in the file (and in git) even though YAML readers keep the later key.
    config = tmp_path / "accounts.yaml"
    config.write_text(CASES["duplicate-key-plain-first"][0], encoding="utf-8")
    code, out, _ = cli("check", "--format", "json", str(config))
    assert code == 1
    rules = [(item["rule"], item["line"]) for item in json.loads(out)["findings"]]
    assert ("MC002", 12) in rules
    assert ("MC301", 11) in rules


def test_env_values_never_printed(cli: Cli, tmp_path: Path, env_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", ENV_CANARY)
    config = tmp_path / "accounts.yaml"
    config.write_text(VALID, encoding="utf-8")
    secrets = (ENV_CANARY, ENV_FILE_CANARY)
    for fmt in FORMATS:
        # Both variables set (one from the environment, one from the dotenv file): clean.
        code, out, err = cli("check", "--format", fmt, "--require-env", "--strict", "--env-file", str(env_file),
                             str(config))
        assert code == 0, out
        _assert_clean(secrets, stdout=out, stderr=err)
        # Without the dotenv file one variable is missing: MC306 names it, never the other one's value.
        code, out, err = cli("check", "--format", fmt, "--require-env", str(config))
        assert code == exit_code_for(fmt, 1)
        assert "MC306" in out
        assert "IMAP_INFO_PASSWORD" in out or fmt == "prometheus"  # its labels name rules, not variables
        _assert_clean(secrets, stdout=out, stderr=err)


def test_oauth2_env_values_never_printed(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The values of an oauth2 login's variables (client secret, refresh token, service-account key) are never
    shown: not when set, not beside a missing one (MC306 names the variable only)."""
    keys = (*M365_HEAD, "client_secret: {env: M365_CLIENT_SECRET}", "refresh_token: {env: INFO_REFRESH_TOKEN}")
    config = tmp_path / "accounts.yaml"
    config.write_text(with_oauth2(*keys), encoding="utf-8")
    google = tmp_path / "google.yaml"
    google.write_text(with_oauth2("provider: google", "service_account: {env: GOOGLE_SA_KEY}"), encoding="utf-8")
    values = {"SMTP_PASSWORD": ENV_CANARY, "M365_CLIENT_SECRET": f"{ENV_CANARY}-cs"}
    for name, value in {**values, "GOOGLE_SA_KEY": f"{ENV_CANARY}-sa"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INFO_REFRESH_TOKEN", f"{ENV_FILE_CANARY}-rt")
    secrets = (ENV_CANARY, ENV_FILE_CANARY)
    for fmt in FORMATS:
        for path in (config, google):
            code, out, err = cli("check", "--format", fmt, "--require-env", "--strict", str(path))
            assert code == 0, out
            _assert_clean(secrets, stdout=out, stderr=err)
    monkeypatch.delenv("INFO_REFRESH_TOKEN")
    for fmt in FORMATS:
        code, out, err = cli("check", "--format", fmt, "--require-env", str(config))
        assert code == exit_code_for(fmt, 1)
        assert "INFO_REFRESH_TOKEN" in out or fmt == "prometheus"
        _assert_clean(secrets, stdout=out, stderr=err)


def test_dotenv_file_with_a_broken_line_does_not_echo_it(cli: Cli, tmp_path: Path) -> None:
    env = tmp_path / "broken.env"
    env.write_text(f"SMTP_PASSWORD={ENV_CANARY}\n'{ENV_FILE_CANARY}\nIMAP_INFO_PASSWORD=x\n", encoding="utf-8")
    config = tmp_path / "accounts.yaml"
    config.write_text(VALID, encoding="utf-8")
    code, out, err = cli("check", "--require-env", "--env-file", str(env), str(config))
    assert code == 2  # a line that is no assignment is a usage error naming the line, never its text
    assert f"--env-file {env}, line 2: not a NAME=value line" in err
    _assert_clean((ENV_CANARY, ENV_FILE_CANARY), stdout=out, stderr=err)


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("canary")
    for name, (source, _, _) in CASES.items():
        (top / f"{name}.yaml").write_text(source, encoding="utf-8")
    return top


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "output-file"])
@pytest.mark.parametrize("flags", [(), ("--strict", "--require-env", "--env-file")], ids=["plain", "strict-env"])
def test_canary_never_printed_by_a_subprocess(
    fmt: str, to_file: bool, flags: tuple[str, ...], case_dir: Path, tmp_path: Path
) -> None:
    env_path = tmp_path / "secrets.env"
    env_path.write_text(f"IMAP_INFO_PASSWORD={ENV_FILE_CANARY}\n", encoding="utf-8")
    args = [*flags, str(env_path)] if "--env-file" in flags else list(flags)
    report = tmp_path / f"report.{fmt}"
    if to_file:
        args += ["--output", str(report)]
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "MAILCFG_DEBUG")}
    environ["SMTP_PASSWORD"] = ENV_CANARY
    run = subprocess.run(
        [sys.executable, "-m", "validator", "check", "--format", fmt, *args, str(case_dir)],
        capture_output=True, text=True, env=environ, timeout=120, check=False,
    )
    assert run.returncode == (1 if to_file else exit_code_for(fmt, 1)), run.stderr
    written = report.read_text(encoding="utf-8") if to_file else ""
    if to_file:
        assert run.stdout == ""
    report_text = written if to_file else run.stdout
    secrets = tuple({s for _, _, group in CASES.values() for s in group} | {ENV_CANARY, ENV_FILE_CANARY})
    _assert_clean(secrets, stdout=run.stdout, stderr=run.stderr, output_file=written)
    if fmt in ("json", "text"):
        assert {"MC001", "MC002", "MC003", "MC004", "MC301"} <= _rules(fmt, report_text)


FILE_CANARY = "CANARY-file-3e91a0-v4lu3"
CREDENTIAL_CANARY = "CANARY-credential-8b20f4-v4lu3"
COMMAND_CANARY = "CANARY-command-61c0d2-v4lu3"


def test_secret_files_credentials_and_commands_never_printed(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check` reads no secret file or credential and runs no command: their contents never show, in any format,
    whatever the findings about them (MC308 open to others, MC306 missing, MC511 outside --allow-secret-dir)."""
    secrets, credentials, outside = tmp_path / "secrets", tmp_path / "creds", tmp_path / "outside"
    for folder, name, value in (
        (secrets, "info", FILE_CANARY),
        (credentials, "mailer", CREDENTIAL_CANARY),
        (outside, "anna", FILE_CANARY + "-outside"),
    ):
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(value + "\n", encoding="utf-8")
        (folder / name).chmod(0o644)
    marker = tmp_path / "ran"
    program = tmp_path / "print-secret"
    program.write_text(f"#!/bin/sh\ntouch {marker}\necho {COMMAND_CANARY}\necho {COMMAND_CANARY} >&2\n")
    program.chmod(0o755)
    source = (
        VALID.replace("{env: SMTP_PASSWORD}", "{credential: mailer}").replace(
            "{env: IMAP_INFO_PASSWORD}", "{file: secrets/info}"
        )
        + imap_entry().replace("{env: IMAP_ANNA_PASSWORD}", "{file: outside/anna}")
        + imap_entry(id="ben", address="ben@example.com").replace(
            "{env: IMAP_ANNA_PASSWORD}", f"{{command: [{program}, {COMMAND_CANARY}-argument]}}"
        )
        + imap_entry(id="cleo", address="cleo@example.com").replace(
            "{env: IMAP_ANNA_PASSWORD}", "{file: secrets/missing}"
        )
    )
    config = tmp_path / "accounts.yaml"
    config.write_text(source, encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    secrets_seen = (FILE_CANARY, CREDENTIAL_CANARY, COMMAND_CANARY)
    required = ("--require-secrets", "--allow-secret-dir", str(secrets), "--strict")
    for fmt in FORMATS:
        for flags in [(), required]:
            code, out, err = cli("check", "--format", fmt, *flags, str(config))
            assert code == exit_code_for(fmt, 1 if flags else 0), (fmt, out, err)
            _assert_clean(secrets_seen, stdout=out, stderr=err)
            if fmt in ("json", "text") and flags:
                assert {"MC306", "MC308", "MC511"} <= _rules(fmt, out), out
    _assert_clean(secrets_seen, step_summary=(tmp_path / "summary.md").read_text(encoding="utf-8"))
    assert not marker.exists()
