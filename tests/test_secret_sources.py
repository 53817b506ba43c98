"""Secret sources without a server: reading files and credentials (validator/secrets.py), running commands, and
how `check` takes its settings (`--require-secrets`, `require-secrets`, `--allow-secret-dir`,
`MAILCFG_ALLOW_SECRET_DIR`, `$CREDENTIALS_DIRECTORY`), never from an env file or a configuration file.

The live side (passwords from each source logging in, refusals proven from the servers' side) is
tests/live/test_secret_sources.py.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from builders import VALID, Cli

from validator import secrets
from validator.errors import UsageError
from validator.secrets import Places, Ref, SecretError

ENV = {"SMTP_PASSWORD": "x"}


def file_ref(path: Path) -> Ref:
    return Ref("file", str(path), path=os.path.realpath(path))


def places(*dirs: Path, credentials: Path | None = None) -> Places:
    return Places(tuple(os.path.realpath(d) for d in dirs), str(credentials) if credentials else None)


# ----------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("content", "value"),
    [
        (b"secret\n", "secret"),
        (b"secret\r\n", "secret"),
        (b"secret\n\n", "secret\n"),  # one newline only: the rest is the secret's
        (b"secret", "secret"),
        (b" spaced secret \n", " spaced secret "),
        ("pässwörd\n".encode(), "pässwörd"),
    ],
)
def test_a_file_is_read_with_one_trailing_newline_dropped(tmp_path: Path, content: bytes, value: str) -> None:
    path = tmp_path / "pw"
    path.write_bytes(content)
    assert secrets.read(file_ref(path), places(tmp_path)) == value


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\n", "holds nothing but a line break"),
        (b"\xff\xfe", "gave no UTF-8 text"),
        (b"x" * (64 * 1024 + 1), "is larger than 64 KiB"),
        (b"", "is empty"),
    ],
)
def test_a_file_that_holds_no_secret_is_mc306(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "pw"
    path.write_bytes(content)
    with pytest.raises(SecretError) as raised:
        secrets.read(file_ref(path), places(tmp_path))
    assert raised.value.problem.rule == "MC306"
    assert words in raised.value.problem.message


def test_a_file_outside_the_allowed_directories_is_mc511_before_anything(tmp_path: Path) -> None:
    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    allowed.mkdir()
    elsewhere.mkdir()
    (elsewhere / "pw").write_text("x\n")
    (allowed / "link").symlink_to(elsewhere / "pw")
    (allowed / "dots").mkdir()
    for ref in (file_ref(elsewhere / "pw"), file_ref(allowed / "link"), file_ref(allowed / "dots" / ".." / ".." / "x")):
        found = secrets.locate(ref, places(allowed))
        assert isinstance(found, secrets.Problem)
        assert found.rule == "MC511"
        assert "--allow-secret-dir" in found.hint
    assert secrets.locate(file_ref(allowed / "dots" / "pw"), places(allowed)) == os.path.realpath(
        allowed / "dots" / "pw"
    )
    assert isinstance(secrets.locate(file_ref(elsewhere / "pw"), Places()), secrets.Problem)


def test_a_system_tree_is_refused_even_inside_an_allowed_directory() -> None:
    found = secrets.locate(Ref("file", "/proc/self/environ", path="/proc/self/environ"), Places(("/",)))
    assert isinstance(found, secrets.Problem)
    assert (found.rule, found.message) == ("MC511", "file /proc/self/environ resolves under /proc, which holds no "
                                                    "secrets; not read")


def test_a_credential_comes_from_the_credentials_directory_only(tmp_path: Path) -> None:
    credentials = tmp_path / "creds"
    credentials.mkdir()
    (credentials / "info_pw").write_text("Info-Secret\n")
    (tmp_path / "outside").write_text("x\n")
    (credentials / "escape").symlink_to(tmp_path / "outside")
    assert secrets.read(Ref("credential", "info_pw"), places(credentials=credentials)) == "Info-Secret"
    escape = secrets.locate(Ref("credential", "escape"), places(credentials=credentials))
    assert isinstance(escape, secrets.Problem)
    assert escape.rule == "MC511"
    unset = secrets.locate(Ref("credential", "info_pw"), Places(("/",)))
    assert isinstance(unset, secrets.Problem)
    assert (unset.rule, unset.message) == ("MC306", "credential info_pw: CREDENTIALS_DIRECTORY is not set")


def test_a_reference_resolves_relative_paths_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from validator.model import Secret

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = str(tmp_path / "yaml")

    def ref(**source: object) -> Ref:
        return secrets.reference(Secret.model_validate(source), folder)

    assert ref(file="secrets/pw").path == os.path.realpath(tmp_path / "yaml/secrets/pw")
    assert ref(file="~/pw").path == os.path.realpath(tmp_path / "home/pw")
    assert ref(file="/run/secrets/pw").path == os.path.realpath("/run/secrets/pw")
    command = ref(command=["op", "read", "x"])
    assert (command.name, command.argv, command.shown) == ("op", ("op", "read", "x"), "command op")
    assert ref(env="A").key == "A"
    assert all(":" in ref(**source).key for source in ({"file": "pw"}, {"credential": "pw"}, {"command": ["pw"]}))


# ----------------------------------------------------------------------------------------------- commands


def test_a_command_runs_without_shell_stdin_or_stderr(tmp_path: Path) -> None:
    program = tmp_path / "print"
    program.write_text("#!/bin/sh\necho stderr-secret >&2\nread line || echo no-stdin\nprintf '%s|' \"$@\"\n")
    program.chmod(0o755)
    output = asyncio.run(secrets.run([str(program), "a b", "$HOME", ";ls"], 5))
    assert output == b"no-stdin\na b|$HOME|;ls|"


@pytest.mark.parametrize(
    ("body", "timeout", "words"),
    [
        ("exit 4\n", 5, "exited with status 4"),
        ("sleep 30\n", 0.3, "did not finish within 0.3 s"),
    ],
)
def test_a_failing_command_is_mc512(tmp_path: Path, body: str, timeout: float, words: str) -> None:
    program = tmp_path / "fail"
    program.write_text("#!/bin/sh\n" + body)
    program.chmod(0o755)
    with pytest.raises(SecretError) as raised:
        asyncio.run(secrets.run([str(program)], timeout))
    assert raised.value.problem.rule == "MC512"
    assert words in raised.value.problem.message


def test_a_command_not_on_path_is_mc512(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"bin:{tmp_path}")  # relative entries are never searched
    (tmp_path / "bin").mkdir()
    program = tmp_path / "bin" / "tool"
    program.write_text("#!/bin/sh\necho x\n")
    program.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SecretError) as raised:
        asyncio.run(secrets.run(["tool"], 5))
    assert "is not on PATH" in raised.value.problem.message


def test_a_command_that_prints_nothing_is_mc512() -> None:
    with pytest.raises(SecretError) as raised:
        secrets.value(b"\n", Ref("command", "op", ("op",)))
    assert (raised.value.problem.rule, raised.value.problem.message) == ("MC512", "command op printed nothing")


# ----------------------------------------------------------------------------------------------- settings


def test_allowed_dirs_from_flags_and_the_variable(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two dirs"
    one.mkdir()
    two.mkdir()
    (tmp_path / "link").symlink_to(one)
    found = secrets.allowed_dirs([str(two)], {"MAILCFG_ALLOW_SECRET_DIR": f"{tmp_path / 'link'}, {one}\n"})
    assert found == (os.path.realpath(two), os.path.realpath(one))
    with pytest.raises(UsageError, match="--allow-secret-dir /no/such/dir: no such directory"):
        secrets.allowed_dirs(["/no/such/dir"], {})


def _accounts(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.yaml"
    path.write_text(VALID.replace("{env: IMAP_INFO_PASSWORD}", "{file: secrets/info_pw}"), encoding="utf-8")
    (tmp_path / "secrets").mkdir(exist_ok=True)
    return path


def test_require_secrets_is_require_env(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = _accounts(tmp_path)
    monkeypatch.setenv("SMTP_PASSWORD", "x")
    monkeypatch.delenv("MAILCFG_ALLOW_SECRET_DIR", raising=False)
    for flags in (["--require-env"], ["--require-secrets"]):
        code, out, _ = cli("check", "--no-config", *flags, "--allow-secret-dir", str(tmp_path / "secrets"),
                           str(accounts))
        assert code == 1
        assert "error[MC306] file secrets/info_pw does not exist (password of 'info')" in out
    (tmp_path / "secrets" / "info_pw").write_text("x\n")
    (tmp_path / "secrets" / "info_pw").chmod(0o600)
    code, out, _ = cli("check", "--no-config", "--require-secrets", "--allow-secret-dir", str(tmp_path / "secrets"),
                       "--strict", str(accounts))
    assert code == 0, out


@pytest.mark.parametrize("name", [".mailcfg.yaml", "pyproject.toml"])
def test_require_secrets_in_the_configuration_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    accounts = _accounts(tmp_path)
    text = "require-secrets: true\n" if name.endswith("yaml") else "[tool.mailcfg]\nrequire-secrets = true\n"
    (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PASSWORD", "x")
    monkeypatch.setenv("MAILCFG_ALLOW_SECRET_DIR", str(tmp_path / "secrets"))
    code, out, _ = cli("check", "--format", "json", str(accounts))
    assert code == 1
    assert '"rule": "MC306"' in out
    assert '"rule": "MC006"' not in out


def test_the_variable_allows_a_directory_for_check(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = _accounts(tmp_path)
    monkeypatch.setenv("SMTP_PASSWORD", "x")
    monkeypatch.delenv("MAILCFG_ALLOW_SECRET_DIR", raising=False)
    code, out, _ = cli("check", "--no-config", "--require-env", str(accounts))
    assert code == 1
    assert "error[MC511] file secrets/info_pw" in out
    assert "is outside every --allow-secret-dir; not read (password of 'info')" in out
    monkeypatch.setenv("MAILCFG_ALLOW_SECRET_DIR", str(tmp_path / "secrets"))
    code, out, _ = cli("check", "--no-config", "--require-env", str(accounts))
    assert "MC511" not in out
    assert "MC306" in out


def test_an_env_file_sets_no_secret_directory_nor_credentials_directory(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trust never comes from a file the pull request can change: an env file's MAILCFG_ALLOW_SECRET_DIR is MC511
    (a warning) and ignored; its CREDENTIALS_DIRECTORY is not where credentials are looked for."""
    accounts = _accounts(tmp_path)
    accounts.write_text(
        VALID.replace("{env: IMAP_INFO_PASSWORD}", "{file: secrets/info_pw}").replace(
            "{env: SMTP_PASSWORD}", "{credential: mailer_pw}"
        ),
        encoding="utf-8",
    )
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "mailer_pw").write_text("x\n")
    env_file = tmp_path / "ci.env"
    env_file.write_text(
        f"MAILCFG_ALLOW_SECRET_DIR={tmp_path / 'secrets'}\nCREDENTIALS_DIRECTORY={tmp_path / 'creds'}\n",
        encoding="utf-8",
    )
    for name in ("MAILCFG_ALLOW_SECRET_DIR", "CREDENTIALS_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    code, out, _ = cli("check", "--no-config", "--require-env", "--env-file", str(env_file), str(accounts))
    assert code == 1
    assert "warning[MC511] MAILCFG_ALLOW_SECRET_DIR in an env file is ignored" in out
    assert "error[MC511] file secrets/info_pw" in out
    assert "error[MC306] credential mailer_pw: CREDENTIALS_DIRECTORY is not set" in out
