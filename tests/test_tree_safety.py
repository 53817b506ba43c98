"""The checked tree comes from a pull request: nothing outside it, and no system file, is ever read or shown.

In a pull-request check every file of the repository (symlinks included) and ``.mailcfg.yaml`` come
from the pull request, while the job has real secrets in its environment. A committed
``accounts/zz.yaml -> /proc/self/environ`` or ``paths: [/proc/self/environ]`` must not put that
environment into any report. Paths named on the command line are trusted roots; below them, and below
a configuration file's folder, links must stay inside.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import VALID, Cli

from validator import loader

ROOT = Path(__file__).resolve().parent.parent
CANARY = "mailcfg-canary-7f3a9c"
# Every report format at once: text on stdout, the others to files.
FORMATS = ("json", "sarif", "github", "junit")
needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs Linux /proc")


def write(base: Path, name: str, text: str) -> Path:
    path = base / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def leaky(base: Path, name: str) -> Path:
    """A file outside the tree whose content, were it read, would be shown in a syntax-error snippet."""
    return write(base, name, f"version: 1\nsmtp: {CANARY}: oops\n")


def run_all_formats(tmp_path: Path, *args: str, cwd: Path | None = None) -> tuple[int, str, dict[str, Any]]:
    """``mailcfg check`` in a child whose environment (so /proc/self/environ) holds the canary.

    Returns the exit code, every byte of output (stdout, stderr, each report file) joined, and the JSON report.
    """
    reports = tmp_path / "reports"
    reports.mkdir(exist_ok=True)
    formats = [arg for name in FORMATS for arg in ("--format", f"{name}:{reports / name}")]
    env = {"MAILCFG_CANARY": CANARY, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "validator", "check", "--format", "text", *formats, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd or tmp_path,
        env=env,
    )
    assert "Traceback" not in run.stderr, run.stderr
    outputs = [run.stdout, run.stderr, *((reports / name).read_text(encoding="utf-8") for name in FORMATS)]
    return run.returncode, "\n".join(outputs), json.loads((reports / "json").read_text(encoding="utf-8"))


def findings(report: dict[str, Any], rule: str) -> list[tuple[str, int, int]]:
    """(file, line, column) of each finding of ``rule`` in a JSON report."""
    return [(item["file"], item["line"], item["column"]) for item in report["findings"] if item["rule"] == rule]


def json_check(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("check", "--format", "json", *args)
    assert "Traceback" not in err
    return code, json.loads(out)


# ------------------------------------------------------------------------------------ /proc and links


@needs_proc
def test_symlink_to_proc_environ_shows_the_environment_in_no_format(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts"
    write(accounts, "a.yaml", VALID)
    (accounts / "zz.yaml").symlink_to("/proc/self/environ")
    code, output, report = run_all_formats(tmp_path, "--no-config", "accounts")
    assert CANARY not in output
    assert code == 1
    assert findings(report, "MC004") == [("accounts/zz.yaml", 1, 1)]
    assert "leaves the checked tree" in output


@needs_proc
def test_proc_file_named_on_the_command_line_is_refused_too(tmp_path: Path) -> None:
    # Trusted as a root, but procfs files claim to be regular (size 0): refused by where they live.
    code, output, report = run_all_formats(tmp_path, "--no-config", "/proc/self/environ")
    assert CANARY not in output
    assert code == 1
    assert findings(report, "MC004") == [("/proc/self/environ", 1, 1)]


def test_symlink_to_a_file_outside_the_root_is_refused_unread(tmp_path: Path, cli: Cli) -> None:
    outside = leaky(tmp_path, "outside/secret.yaml")
    accounts = tmp_path / "accounts"
    write(accounts, "a.yaml", VALID)
    (accounts / "b.yaml").symlink_to(outside)
    code, out, _ = cli("check", "--no-config", str(accounts))
    assert CANARY not in out
    assert code == 1
    code, report = json_check(cli, "--no-config", str(accounts))
    assert findings(report, "MC004") == [(str(accounts / "b.yaml"), 1, 1)]
    assert [item["rule"] for item in report["findings"]] == ["MC004"]


def test_relative_symlink_climbing_out_of_the_root_is_refused(tmp_path: Path, cli: Cli) -> None:
    leaky(tmp_path, "secret.yaml")
    accounts = tmp_path / "accounts"
    write(accounts, "a.yaml", VALID)
    (accounts / "sub").mkdir()
    (accounts / "sub" / "b.yaml").symlink_to("../../secret.yaml")
    code, report = json_check(cli, "--no-config", str(accounts))
    assert code == 1
    assert findings(report, "MC004") == [(str(accounts / "sub" / "b.yaml"), 1, 1)]


def test_directory_symlink_leaving_the_root_is_reported_and_not_walked(tmp_path: Path, cli: Cli) -> None:
    leaky(tmp_path, "elsewhere/c.yaml")
    accounts = tmp_path / "accounts"
    write(accounts, "a.yaml", VALID)
    (accounts / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    code, out, _ = cli("check", "--no-config", str(accounts))
    assert CANARY not in out
    assert code == 1
    _, report = json_check(cli, "--no-config", str(accounts))
    assert findings(report, "MC004") == [(str(accounts / "more"), 1, 1)]
    assert report["files"] == [str(accounts / "a.yaml"), str(accounts / "more")]


def test_symlink_inside_the_root_pointing_inside_it_still_works(tmp_path: Path, cli: Cli) -> None:
    accounts = tmp_path / "accounts"
    write(accounts, "store/accounts.txt", VALID)  # not *.yaml: read once, through the link
    (accounts / "a.yaml").symlink_to("store/accounts.txt")
    (accounts / "same").symlink_to("store", target_is_directory=True)  # inside: no finding, not walked twice
    code, report = json_check(cli, "--no-config", str(accounts))
    assert code == 0, report["findings"]
    assert report["files"] == [str(accounts / "a.yaml")]
    assert report["summary"]["accounts"] == 2


def test_symlink_named_on_the_command_line_is_trusted(tmp_path: Path, cli: Cli) -> None:
    write(tmp_path, "elsewhere/real.yaml", VALID)
    write(tmp_path, "elsewhere/dir/a.yaml", VALID)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "link.yaml").symlink_to(tmp_path / "elsewhere" / "real.yaml")
    (tree / "dirlink").symlink_to(tmp_path / "elsewhere" / "dir", target_is_directory=True)
    assert json_check(cli, "--no-config", str(tree / "link.yaml"))[0] == 0
    # A linked root is walked at its target: the target is the tree its links must stay in.
    code, report = json_check(cli, "--no-config", str(tree / "dirlink"))
    assert code == 0, report["findings"]
    assert report["files"] == [str(tree / "dirlink" / "a.yaml")]


# ------------------------------------------------------------------------------------- special files


def test_fifo_in_a_checked_directory_is_refused_without_opening_it(tmp_path: Path, cli: Cli) -> None:
    accounts = tmp_path / "accounts"
    write(accounts, "a.yaml", VALID)
    os.mkfifo(accounts / "pipe.yaml")  # opening it would wait for a writer: never
    code, report = json_check(cli, "--no-config", str(accounts))
    assert code == 1
    assert findings(report, "MC004") == [(str(accounts / "pipe.yaml"), 1, 1)]
    (item,) = report["findings"]
    assert "FIFO" in item["message"]


def test_device_reached_through_a_link_the_user_named_is_refused(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")  # reading it never ends
    code, report = json_check(cli, "--no-config", str(tmp_path / "zero.yaml"))
    assert code == 1
    assert findings(report, "MC004") == [(str(tmp_path / "zero.yaml"), 1, 1)]


def test_nul_byte_file_is_reported_without_its_content(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_bytes(f"version: 1\nnote: {CANARY}\x00 more\n".encode())
    for name in ("text", *FORMATS):
        code, out, err = cli("check", "--no-config", "--format", name, str(path))
        assert code == 1
        assert CANARY not in out + err, name
    _, report = json_check(cli, "--no-config", str(path))
    assert findings(report, "MC001") == [(str(path), 1, 1)]
    assert "NUL" in report["findings"][0]["message"]


def test_nul_byte_file_keeps_no_text_for_snippets(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"version: 1\x00\n")
    source = loader.load_file(str(path), "a.yaml")
    assert source.text == ""
    assert not source.complete
    assert [item.rule for item in source.findings] == ["MC001"]


def test_utf16_file_still_gets_its_own_message(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes("version: 1\n".encode("utf-16"))  # with a BOM, and full of NUL bytes
    (item,) = loader.load_file(str(path), "a.yaml").findings
    assert "UTF-16" in item.message


# ------------------------------------------------------------------------------ configuration paths


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one valid account file, the current directory."""
    base = tmp_path / "repo"
    (base / ".git").mkdir(parents=True)
    write(base, "accounts/a.yaml", VALID)
    monkeypatch.chdir(base)
    return base


@needs_proc
def test_config_path_to_proc_environ_is_mc006_and_not_read(tmp_path: Path) -> None:
    base = tmp_path / "repo"
    (base / ".git").mkdir(parents=True)
    write(base, "accounts/a.yaml", VALID)
    write(base, ".mailcfg.yaml", "paths:\n  - accounts\n  - /proc/self/environ\n")
    code, output, report = run_all_formats(tmp_path, cwd=base)
    assert CANARY not in output
    assert code == 1
    assert findings(report, "MC006") == [(".mailcfg.yaml", 3, 5)]
    assert report["files"] == ["accounts/a.yaml"]


def test_config_path_climbing_out_is_mc006_and_not_read(repo: Path, cli: Cli) -> None:
    leaky(repo.parent, "outside.yaml")
    write(repo, ".mailcfg.yaml", "paths: [accounts, ../outside.yaml, accounts/../../outside.yaml]\n")
    code, out, _ = cli("check")
    assert CANARY not in out
    assert code == 1
    code, report = json_check(cli)
    assert findings(report, "MC006") == [(".mailcfg.yaml", 1, 19), (".mailcfg.yaml", 1, 36)]
    assert "../outside.yaml" in report["findings"][0]["message"]
    assert report["files"] == ["accounts/a.yaml"]


def test_config_whose_every_path_is_refused_checks_nothing_else(repo: Path, cli: Cli) -> None:
    # Not ./accounts.yaml instead: the run reports the MC006 finding rather than a missing default file.
    write(repo, ".mailcfg.yaml", "paths: [/etc]\n")
    code, report = json_check(cli)
    assert code == 1
    assert findings(report, "MC006") == [(".mailcfg.yaml", 1, 9)]
    assert report["files"] == []


def test_pyproject_config_path_climbing_out_is_mc006(repo: Path, cli: Cli) -> None:
    leaky(repo.parent, "outside.yaml")
    write(repo, "pyproject.toml", '[project]\nname = "x"\n\n[tool.mailcfg]\npaths = ["accounts", "../outside.yaml"]\n')
    code, report = json_check(cli)
    assert code == 1
    assert findings(report, "MC006") == [("pyproject.toml", 5, 1)]
    assert report["files"] == ["accounts/a.yaml"]


def test_config_path_through_a_symlink_out_of_the_folder_is_mc006(repo: Path, cli: Cli) -> None:
    leaky(repo.parent, "elsewhere/b.yaml")
    (repo / "linked").symlink_to(repo.parent / "elsewhere", target_is_directory=True)
    write(repo, ".mailcfg.yaml", "paths: [accounts, linked]\n")
    code, report = json_check(cli)
    assert code == 1
    assert findings(report, "MC006") == [(".mailcfg.yaml", 1, 19)]
    assert report["files"] == ["accounts/a.yaml"]


def test_link_below_a_config_path_must_stay_in_the_config_folder(repo: Path, cli: Cli) -> None:
    leaky(repo.parent, "outside.yaml")
    write(repo, "shared/s.txt", "version: 1\nusers:\n  - id: bert\n")
    (repo / "accounts" / "shared.yaml").symlink_to("../shared/s.txt")  # leaves accounts/, stays in the repo
    (repo / "accounts" / "zz.yaml").symlink_to("../../outside.yaml")
    write(repo, ".mailcfg.yaml", "paths: [accounts]\n")
    code, out, _ = cli("check")
    assert CANARY not in out
    assert code == 1
    _, report = json_check(cli)
    assert [(item["rule"], item["file"]) for item in report["findings"]] == [("MC004", "accounts/zz.yaml")]
    assert report["summary"]["accounts"] == 2


def test_config_file_linked_to_proc_is_refused(repo: Path, cli: Cli) -> None:
    if not os.path.exists("/proc/self/environ"):
        pytest.skip("needs Linux /proc")
    (repo / ".mailcfg.yaml").symlink_to("/proc/self/environ")
    code, report = json_check(cli, "accounts")
    assert code == 1
    (item,) = report["findings"]
    assert (item["rule"], item["file"], item["line"], item["column"]) == ("MC006", ".mailcfg.yaml", 1, 1)
    assert "/proc" in item["message"]


# ---------------------------------------------------------------------------- libyaml's own depth limit


class _LibyamlWithDepthLimit(yaml.CSafeLoader):
    """CSafeLoader as PyYAML 6.0.4 bundles it: libyaml refuses a 1,001st nested flow level while scanning
    ahead, before any event of the text arrives (the installed PyYAML may be older)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text
        self.refused_at = text.find("[" * 1001)

    def get_event(self) -> Any:
        if self.refused_at >= 0:
            index = self.refused_at + 1000
            before = self.text[:index]
            line, column = before.count("\n"), index - (before.rfind("\n") + 1)
            # libyaml's own marks carry no buffer and no pointer (None); the stub wants an int pointer.
            mark = yaml.Mark("<unicode string>", index, line, column, None, None)  # type: ignore[arg-type]
            raise yaml.scanner.ScannerError("while increasing flow level", mark, "exceeded maximum nesting depth", mark)
        return super().get_event()


DEEP = "version: 1\nusers: " + "[" * 10_000 + "]" * 10_000 + "\n"


def test_libyaml_nesting_limit_gives_the_same_finding_as_our_own(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [
        (item.rule, item.message, item.line, item.column) for item in loader.load_bytes(DEEP.encode(), "d").findings
    ]
    assert expected == [("MC004", "nesting deeper than 64 levels", 2, 71)]
    monkeypatch.setattr(loader, "_CLoader", _LibyamlWithDepthLimit)
    source = loader.load_bytes(DEEP.encode(), "d")
    assert [(item.rule, item.message, item.line, item.column) for item in source.findings] == expected
    assert not source.complete


def test_libyaml_nesting_limit_above_a_raised_depth_limit_is_mc004_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "_CLoader", _LibyamlWithDepthLimit)
    source = loader.load_bytes(DEEP.encode(), "d", loader.Limits(max_depth=5000))
    (item,) = source.findings
    assert item.rule == "MC004"
    assert "1,000 levels" in item.message
