"""Integrations: the pre-commit hook, the GitHub Action, the CI workflow, and the docs that show them.

The workflow files are validated against GitHub's and GitLab's schemas as bundled by check-jsonschema
(no network: the subprocesses get a dead proxy, so a download attempt would fail the test). The hook is
installed and run by pre-commit itself, from a copy of the working tree, once per session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from validator.reporters import FORMATS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "integrations"
DOCS = ROOT / "docs" / "integrations.md"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
EXAMPLE_WORKFLOW = FIXTURES / "github-workflow.yml"
EXAMPLE_PRE_COMMIT = FIXTURES / "pre-commit-config.yaml"
EXAMPLE_GITLAB = FIXTURES / "gitlab-ci.yml"

WORKFLOWS = (CI, EXAMPLE_WORKFLOW)
GITHUB_FILES = (ACTION, *WORKFLOWS)
# The one write permission any of them may ask for, and where: upload-sarif needs it, and the docs say why.
ALLOWED_WRITES = {(EXAMPLE_WORKFLOW.name, "mailcfg"): {"security-events"}}
SHA_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^#\s*v\d+\.\d+\.\d+$")
# What the hook repository needs to build mailcfg (pyproject names README.md as the readme).
HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "validator", "schema")
GIT_IDENTITY = ("-c", "user.name=mailcfg tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment for subprocesses: no git or pre-commit state of an outer hook, no GitHub runner."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT", "GITHUB_", "MAILCFG_")) and key not in ("SKIP", "NO_COLOR")
    }
    env.update(extra)
    return env


# --- schemas ---------------------------------------------------------------------------------------------

DEAD_PROXY = "http://127.0.0.1:9"


def _check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = _clean_env(HTTP_PROXY=DEAD_PROXY, HTTPS_PROXY=DEAD_PROXY, http_proxy=DEAD_PROXY, https_proxy=DEAD_PROXY)
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        (ACTION, "vendor.github-actions"),
        (CI, "vendor.github-workflows"),
        (CI, "custom.github-workflows-require-timeout"),
        (EXAMPLE_WORKFLOW, "vendor.github-workflows"),
        (EXAMPLE_WORKFLOW, "custom.github-workflows-require-timeout"),
        (EXAMPLE_GITLAB, "vendor.gitlab-ci"),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_file_matches_vendor_schema(path: Path, schema: str) -> None:
    run = _check_jsonschema(schema, path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok -- validation done" in run.stdout


@pytest.mark.parametrize(
    ("source", "schema", "old", "new"),
    [
        (CI, "vendor.github-workflows", "    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    stepz: []\n"),
        (ACTION, "vendor.github-actions", "      shell: bash\n", ""),
    ],
    ids=["workflow-unknown-key", "action-step-without-shell"],
)
def test_vendor_schema_rejects_a_broken_file(tmp_path: Path, source: Path, schema: str, old: str, new: str) -> None:
    """The validation above is real: the same schema, offline, rejects a copy broken in one place."""
    text = source.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / source.name
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    run = _check_jsonschema(schema, broken)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Schema validation errors" in run.stdout


# --- the docs show the tested files ----------------------------------------------------------------------


def _code_blocks(text: str) -> list[str]:
    return [match[1] for match in re.finditer(r"(?ms)^```[a-z]*\n(.*?)^```$", text)]


@pytest.mark.parametrize("fixture", [EXAMPLE_PRE_COMMIT, EXAMPLE_WORKFLOW, EXAMPLE_GITLAB], ids=lambda p: p.name)
def test_docs_show_the_tested_example_verbatim(fixture: Path) -> None:
    assert fixture.read_text(encoding="utf-8") in _code_blocks(DOCS.read_text(encoding="utf-8"))


def test_docs_hook_table_matches_the_hook() -> None:
    (hook,) = _load(HOOKS)
    docs = DOCS.read_text(encoding="utf-8")
    for key in ("entry", "files", "pass_filenames", "require_serial"):
        value = json.dumps(hook[key]) if isinstance(hook[key], bool) else hook[key]
        assert f"| `{key}` | `{value}` |" in docs, key


def test_docs_action_inputs_match_the_action() -> None:
    inputs = _load(ACTION)["inputs"]
    docs = DOCS.read_text(encoding="utf-8")
    rows = dict(re.findall(r"(?m)^\| `([a-z-]+)` \| (`[^`]*`|\(empty\)) \|", docs.split("### The mailcfg action")[1]))
    assert set(rows) == set(inputs)
    for name, spec in inputs.items():
        assert rows[name] == (f"`{spec['default']}`" if spec["default"] else "(empty)"), name


def test_docs_name_only_formats_the_cli_has() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    named = set(re.findall(r"--format[ =]([a-z]+)", docs))
    assert named == set(FORMATS)


# --- structure of the workflows and the action -----------------------------------------------------------


def _steps(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job id, step) for every step; the action's steps belong to the job ''."""
    data = _load(path)
    if "runs" in data:
        for step in data["runs"].get("steps", []):
            yield "", step
        return
    for job_id, job in data["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


@pytest.mark.parametrize("path", GITHUB_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha_with_its_version(path: Path) -> None:
    uses = [step["uses"] for _, step in _steps(path) if "uses" in step]
    lines = [
        line.split("uses:", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"^\s*(- )?uses:", line)
    ]
    assert len(lines) == len(uses), "every `uses:` on its own line, so its comment can be checked"
    for line in lines:
        reference, _, comment = line.partition(" ")
        if reference.startswith("./"):  # this repository's own action, at the commit under test
            continue
        assert SHA_PINNED.match(reference), reference
        assert VERSION_COMMENT.match(comment.strip()), f"{reference}: add `# vX.Y.Z`"
    if path != ACTION:
        assert any(SHA_PINNED.match(reference) for reference in uses)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_checkout_keeps_no_credentials(path: Path) -> None:
    checkouts = [step for _, step in _steps(path) if str(step.get("uses", "")).startswith("actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False


def _writes(permissions: Any) -> set[str]:
    if isinstance(permissions, str):  # read-all, write-all
        return {"*"} if "write" in permissions else set()
    return {scope for scope, level in (permissions or {}).items() if level == "write"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_minimal(path: Path) -> None:
    data = _load(path)
    assert isinstance(data.get("permissions"), dict), "top-level permissions, so no job gets the default token"
    assert _writes(data["permissions"]) == set()
    for job_id, job in data["jobs"].items():
        assert _writes(job.get("permissions")) == ALLOWED_WRITES.get((path.name, job_id), set()), job_id


def test_the_allowed_write_is_where_sarif_is_uploaded_and_documented() -> None:
    (((name, job_id), scopes),) = ALLOWED_WRITES.items()
    job = _load(FIXTURES / name)["jobs"][job_id]
    assert any(str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@") for step in job["steps"])
    docs = DOCS.read_text(encoding="utf-8")
    assert all(f"only this job gets `{scope}: write`" in docs for scope in scopes)


@pytest.mark.parametrize("path", GITHUB_FILES, ids=lambda p: p.name)
def test_no_expression_is_spliced_into_a_script(path: Path) -> None:
    """Inputs reach scripts through `env:`; `${{ }}` inside `run:` would let an input inject shell code."""
    scripts = [step["run"] for _, step in _steps(path) if "run" in step]
    assert scripts
    for script in scripts:
        assert "${{" not in script, script


def test_action_has_the_documented_inputs_and_is_composite() -> None:
    action = _load(ACTION)
    assert set(action["inputs"]) == {"paths", "format", "sarif-file", "version", "strict"}
    assert action["inputs"]["format"]["default"] == "github"
    assert action["runs"]["using"] == "composite"
    assert all(step.get("shell") == "bash" for _, step in _steps(ACTION) if "run" in step)


# --- the action's scripts, run by bash as the runner does ------------------------------------------------


def _action_step(name: str) -> dict[str, Any]:
    (step,) = [step for _, step in _steps(ACTION) if step.get("name") == name]
    return step


def _run_action_step(name: str, cwd: Path, bin_dir: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    step = _action_step(name)
    env = _clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", RUNNER_TEMP=str(cwd / "runner-temp"))
    for variable, expression in step["env"].items():
        match = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", expression)
        if match:
            env[variable] = inputs.get(match[1], _load(ACTION)["inputs"][match[1]]["default"])
    env["GITHUB_PATH"] = str(cwd / "github-path")
    return subprocess.run(
        ["bash", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """A directory with a fake `mailcfg` that prints its arguments as JSON."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mailcfg"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n", encoding="utf-8")
    fake.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({}, ["check", "--format", "github", "--"]),
        ({"format": ""}, ["check", "--"]),
        (
            {
                "paths": "accounts/\n shared/smtp.yaml",
                "format": "github json:report.json",
                "sarif-file": "mailcfg.sarif",
                "strict": "true",
            },
            [
                "check",
                "--format",
                "github",
                "--format",
                "json:report.json",
                "--format",
                "sarif:mailcfg.sarif",
                "--strict",
                "--",
                "accounts/",
                "shared/smtp.yaml",
            ],
        ),
    ],
    ids=["defaults", "empty-format", "all-inputs"],
)
def test_action_passes_inputs_as_arguments(
    tmp_path: Path, recorder: Path, inputs: dict[str, str], expected: list[str]
) -> None:
    run = _run_action_step("Run mailcfg check", tmp_path, recorder, **inputs)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected


def test_action_inputs_cannot_inject_shell_code(tmp_path: Path, recorder: Path) -> None:
    (tmp_path / "accounts.yaml").write_text("version: 1\n", encoding="utf-8")  # what `*` would glob to
    paths = "$(touch injected-1) `touch injected-2` * ; touch injected-3"
    run = _run_action_step("Run mailcfg check", tmp_path, recorder, paths=paths, **{"sarif-file": "a b;$(x)"})
    assert run.returncode == 0, run.stderr
    words = ["$(touch", "injected-1)", "`touch", "injected-2`", "*", ";", "touch", "injected-3"]
    assert json.loads(run.stdout) == ["check", "--format", "github", "--format", "sarif:a b;$(x)", "--", *words]
    assert not list(tmp_path.glob("injected-*"))


@pytest.mark.parametrize(
    ("step", "inputs", "message"),
    [
        ("Run mailcfg check", {"strict": "yes"}, "input 'strict' must be true or false"),
        ("Install mailcfg", {"version": "1.0 --index-url=http://example.com"}, "input 'version' is not a version"),
        ("Install mailcfg", {"version": "$(touch injected)"}, "input 'version' is not a version"),
    ],
)
def test_action_refuses_bad_inputs(
    tmp_path: Path, recorder: Path, step: str, inputs: dict[str, str], message: str
) -> None:
    run = _run_action_step(step, tmp_path, recorder, **inputs)
    assert run.returncode == 2
    assert f"::error title=mailcfg::{message}" in run.stdout
    assert not (tmp_path / "runner-temp").exists(), "refused before anything was installed"
    assert not list(tmp_path.glob("injected*"))


@pytest.fixture
def real_mailcfg(tmp_path: Path) -> Path:
    """A directory with a `mailcfg` that runs this checkout's CLI with the test interpreter."""
    bin_dir = tmp_path / "real-bin"
    bin_dir.mkdir()
    shim = bin_dir / "mailcfg"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m validator "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    return bin_dir


def test_action_check_step_annotates_and_writes_sarif(tmp_path: Path, real_mailcfg: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURES / "accounts-broken", workspace)
    run = _run_action_step("Run mailcfg check", workspace, real_mailcfg, **{"sarif-file": "mailcfg.sarif"})
    assert run.returncode == 1, run.stderr
    assert "::error file=accounts/users/anna.yaml,line=12,col=15,title=MC201::" in run.stdout
    sarif = json.loads((workspace / "mailcfg.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == ["MC206", "MC201"]


def test_action_check_step_passes_a_good_set(tmp_path: Path, real_mailcfg: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURES / "accounts-good", workspace)
    run = _run_action_step("Run mailcfg check", workspace, real_mailcfg, strict="true")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "::error" not in run.stdout
    assert "::warning" not in run.stdout


# --- the pre-commit hook ---------------------------------------------------------------------------------


def test_hook_manifest_is_valid_and_gets_the_whole_set() -> None:
    from pre_commit.clientlib import load_manifest  # type: ignore[import-untyped]

    (hook,) = load_manifest(str(HOOKS))
    assert hook["id"] == "mailcfg"
    assert hook["entry"] == "mailcfg check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["require_serial"] is True
    files = re.compile(hook["files"])
    assert all(files.search(name) for name in ("accounts/users/anna.yaml", "smtp.yml", ".mailcfg.yaml"))
    assert not any(files.search(name) for name in ("README.md", "pyproject.toml", "notes.yaml.txt"))


def test_fixture_sets_show_why_the_hook_takes_no_file_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The good set passes as a whole; its user file alone, as pass_filenames would give it, does not."""
    from validator.cli import main

    monkeypatch.chdir(FIXTURES / "accounts-good")
    assert main(["check"]) == 0
    assert "2 files" in capsys.readouterr().out
    assert main(["check", "--no-config", "accounts/users/anna.yaml"]) == 1
    assert "error[MC201]" in capsys.readouterr().out


def _git(cwd: Path, *args: str) -> str:
    run = subprocess.run(
        ["git", *GIT_IDENTITY, *args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def _commit_all(directory: Path) -> str:
    _git(directory, "init", "--quiet")
    _git(directory, "add", "--all")
    _git(directory, "commit", "--quiet", "--no-verify", "--message", "fixture")
    return _git(directory, "rev-parse", "HEAD")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The working tree's hook repository as a committed git repo: pre-commit installs from a commit."""
    repo = tmp_path_factory.mktemp("hook-repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in HOOK_REPO_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=ignore)
        else:
            shutil.copy2(source, repo / name)
    return repo, _commit_all(repo)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit store for the session: the hook's environment is installed once, then reused."""
    return tmp_path_factory.mktemp("pre-commit-home")


def _run_hook(target: Path, hook_repo: tuple[Path, str], home: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """The docs' .pre-commit-config.yaml, pointed at the hook repo, run by `pre-commit run --files`.

    This is what `pre-commit try-repo REPO mailcfg --files …` does, except that try-repo keeps its store
    in a fresh temporary directory (ignoring PRE_COMMIT_HOME) and would install the hook on every call.
    """
    config = _load(EXAMPLE_PRE_COMMIT)
    (entry,) = config["repos"]
    assert [hook["id"] for hook in entry["hooks"]] == ["mailcfg"]
    entry["repo"], entry["rev"] = str(hook_repo[0]), hook_repo[1]
    (target / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _commit_all(target)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--color", "never", "--files", *files],
        cwd=target,
        env=_clean_env(PRE_COMMIT_HOME=str(home)),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_hook_passes_a_good_set_when_one_file_changed(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    target = tmp_path / "target"
    shutil.copytree(FIXTURES / "accounts-good", target)
    run = _run_hook(target, hook_repo, pre_commit_home, "accounts/users/anna.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"(?m)^mailcfg\.+Passed$", run.stdout), run.stdout


def test_hook_fails_a_broken_set_and_names_the_rule(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    target = tmp_path / "target"
    shutil.copytree(FIXTURES / "accounts-broken", target)
    run = _run_hook(target, hook_repo, pre_commit_home, "accounts/users/anna.yaml")
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"(?m)^mailcfg\.+Failed$", run.stdout), run.stdout
    assert "accounts/users/anna.yaml:12:15: error[MC201]" in run.stdout


def test_hook_does_not_run_without_a_yaml_change(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    target = tmp_path / "target"
    shutil.copytree(FIXTURES / "accounts-broken", target)
    (target / "notes.txt").write_text("no YAML here\n", encoding="utf-8")
    run = _run_hook(target, hook_repo, pre_commit_home, "notes.txt")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"(?m)^mailcfg\.+\(no files to check\)Skipped$", run.stdout), run.stdout


def test_try_repo_literally(tmp_path: Path, hook_repo: tuple[Path, str]) -> None:
    """`pre-commit try-repo REPO mailcfg --files …`, as a user would try the hook (installs it each time)."""
    outcomes = {}
    for name in ("accounts-good", "accounts-broken"):
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        _commit_all(target)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pre_commit",
                "try-repo",
                str(hook_repo[0]),
                "mailcfg",
                "--color",
                "never",
                "--files",
                "accounts/users/anna.yaml",
            ],
            cwd=target,
            env=_clean_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        outcomes[name] = (run.returncode, run.stdout)
    assert outcomes["accounts-good"][0] == 0, outcomes["accounts-good"][1]
    assert outcomes["accounts-broken"][0] == 1, outcomes["accounts-broken"][1]
    assert "error[MC201]" in outcomes["accounts-broken"][1]
