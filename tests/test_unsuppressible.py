"""Findings no layer may take out, and the one that only the configuration file may (hardening issue §5, design).

A file that could not be read may hold anything, a plaintext password included: MC001 and MC004 fail the run
whatever `--select`, `ignore`, `severity` or a comment say. A plaintext secret (MC301) cannot be suppressed by
a comment in the same pull request; the configuration file may suppress it, and a warning says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from validator.cli import main

BROKEN = """\
version: 1
smtp:
  - id: outgoing
    host: smtp.example.com
    encryption: ssl
    credentials:
      username: mailer@example.com
      password: Plain-Text-Password-1
    test_recipient: it@example.com
  - id: [broken
"""

PLAINTEXT = """\
version: 1
smtp:
  - id: outgoing
    host: smtp.example.com
    encryption: ssl
    credentials:
      username: mailer@example.com
      password: Plain-Text-Password-1  # mailcfg: ignore[MC301] we know
      contact: IT
    test_recipient: it@example.com
imap:
  - id: info
    scope: system
    address: info@example.com
    host: imap.example.com
    encryption: ssl
    outgoing: outgoing
    credentials:
      username: info@example.com
      password: {env: MAILCFG_INFO}
      contact: IT
"""


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *args: str,
          config: str | None = None) -> tuple[int, str]:
    path = tmp_path / "accounts.yaml"
    path.write_text(text, encoding="utf-8")
    options = ["--no-config"] if config is None else ["--config", str(tmp_path / ".mailcfg.yaml")]
    if config is not None:
        (tmp_path / ".mailcfg.yaml").write_text(config, encoding="utf-8")
    capsys.readouterr()
    code = main(["check", str(path), "--no-color", *options, *args])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(("args", "config"), [
    (("--select", "MC301"), None),
    (("--select", "MC3"), None),
    (("--ignore", "MC001"), None),
    ((), "select: [MC3]\n"),
    ((), "ignore: [MC001]\n"),
    ((), "severity: {MC001: off}\n"),
    ((), "severity: {MC001: info}\n"),
])
def test_a_file_that_could_not_be_read_always_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    args: tuple[str, ...], config: str | None) -> None:
    """`--select MC301` on a file with a syntax error exited 0, although the file holds a plaintext password."""
    code, out = check(tmp_path, capsys, BROKEN, *args, config=config)
    assert code == 1, out
    assert "error[MC001]" in out
    assert "Plain-Text-Password-1" not in out


def test_an_inline_comment_cannot_suppress_a_plaintext_secret(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(tmp_path, capsys, PLAINTEXT)
    assert code == 1, out
    assert "error[MC301]" in out
    assert "MC301 cannot be suppressed by a comment" in out
    assert "Plain-Text-Password-1" not in out


def test_the_configuration_may_suppress_it_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(tmp_path, capsys, PLAINTEXT, config="ignore: [MC301]\n")
    assert "error[MC301]" not in out
    assert "warning[MC006] the configuration suppresses 1 plaintext secret finding(s) (MC301)" in out
    assert f"{tmp_path / 'accounts.yaml'}:8:" in out  # the place of the secret, not the secret
    assert "Plain-Text-Password-1" not in out
    assert code == 0  # a warning: `--strict` makes it fail
