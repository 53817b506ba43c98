"""Integrations: the pre-commit hook, the GitHub Action, the CI workflow, and the docs that show them.

The workflow files are validated against GitHub's and GitLab's schemas as bundled by check-jsonschema
(no network: the subprocesses get a dead proxy, so a download attempt would fail the test). The hook is
installed and run by pre-commit itself, from a copy of the working tree, once per session. The action's
scripts are run by bash as the runner would, with a recording fake `mailcfg`. The docs' verify examples
pass the trust settings (`--allow-host`, `--allow-env`) that the README's safety section asks for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from validator.reporters import FORMATS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "integrations"
DOCS = ROOT / "docs" / "integrations.md"
README = ROOT / "README.md"
CHANGELOG = ROOT / "CHANGELOG.md"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
EXAMPLE_WORKFLOW = FIXTURES / "github-workflow.yml"
EXAMPLE_VERIFY_WORKFLOW = FIXTURES / "github-verify-workflow.yml"
EXAMPLE_PRE_COMMIT = FIXTURES / "pre-commit-config.yaml"
EXAMPLE_GITLAB = FIXTURES / "gitlab-ci.yml"

WORKFLOWS = (CI, EXAMPLE_WORKFLOW, EXAMPLE_VERIFY_WORKFLOW)
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
        (EXAMPLE_VERIFY_WORKFLOW, "vendor.github-workflows"),
        (EXAMPLE_VERIFY_WORKFLOW, "custom.github-workflows-require-timeout"),
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


@pytest.mark.parametrize(
    "fixture", [EXAMPLE_PRE_COMMIT, EXAMPLE_WORKFLOW, EXAMPLE_VERIFY_WORKFLOW, EXAMPLE_GITLAB], ids=lambda p: p.name
)
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
    section = docs.split("\n### The mailcfg action\n")[1].split("\n#")[0]
    rows = dict(re.findall(r"(?m)^\| `([a-z-]+)` \| (`[^`]*`|\(empty\)) \|", section))
    assert set(rows) == set(inputs)
    for name, spec in inputs.items():
        assert rows[name] == (f"`{spec['default']}`" if spec["default"] else "(empty)"), name


def test_docs_name_only_formats_the_cli_has() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    named = set(re.findall(r"--format[ =]([a-z]+)", docs))
    assert named == set(FORMATS)


# --- verify in CI: the README's safety section, the docs' examples, the changelog ---------------------------


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    assert f"\n{title}\n" in text, title
    return text.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_safety_section_follows_the_live_checks() -> None:
    headings = re.findall(r"(?m)^## .+$", README.read_text(encoding="utf-8"))
    index = headings.index("## Live checks: `mailcfg verify`")
    assert headings[index + 1] == "## Safety: running on a pull request"


def test_readme_safety_section_covers_the_threat_model() -> None:
    section = _readme_section("## Safety: running on a pull request")
    for attack in (
        "Send any environment variable to any host",
        "/proc/self/environ",
        "Inject IMAP",
        "Port-scan from CI",
        "Spray one password over many usernames",
        "Forge CI annotations",
    ):
        assert attack in section, attack
    assert "`--allow-env 'MAILCFG_*'`" in section
    assert "pull_request_target" in section


def test_readme_trust_table_matches_the_action() -> None:
    """The README's table pairs each option with the variable the action sets from the input of that name."""
    section = _readme_section("## Safety: running on a pull request")
    row = r"(?m)^\| [^|]+ \| `--([a-z-]+)(?: PATTERN| PROGRAM| DIR)?` \| `(MAILCFG_[A-Z_]+)(?:=1)?` \| [^|]+ \|$"
    rows = re.findall(row, section)
    expected = dict(TRUST_VARIABLES)
    expected["allow-any-host"] = "MAILCFG_ALLOW_ANY_HOST"
    assert dict(rows) == expected
    assert "`--max-checks N` (default 200)" in section
    verify_options = _readme_section("## Live checks: `mailcfg verify`")
    for name in TRUST_INPUTS:
        assert f"| `--{name}" in verify_options, name
    assert re.search(r"(?m)^\| MC511 \| error \| `verify`: withheld by the run's trust settings", README.read_text())


def _verify_commands(text: str) -> list[str]:
    """Every `mailcfg verify` command line of the code blocks, continuation lines joined.

    Not a step's `name:`, and not the usage synopsis (`mailcfg verify [PATH ...]`), which is checked apart.
    """
    commands = []
    for block in _code_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            if re.search(r"\bmailcfg verify\b(?! \[)", line) and not re.match(r"\s*(- )?name:", line):
                commands.append(line)
    return commands


@pytest.mark.parametrize("path", [README, DOCS], ids=lambda p: p.name)
def test_every_verify_example_names_the_hosts_it_trusts(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    commands = _verify_commands(text)
    assert commands
    for command in commands:
        assert re.search(r"--allow-(any-)?host\b", command), command
    for block in _code_blocks(text):
        if "mailcfg verify [PATH" in block:
            assert "--allow-host PATTERN, or --allow-any-host" in block, block


@pytest.mark.parametrize("path", [README, DOCS], ids=lambda p: p.name)
def test_ci_examples_pass_allow_host_and_allow_env(path: Path) -> None:
    """Every workflow (YAML) example that runs verify limits the hosts and the secrets, and says why nearby."""
    text = path.read_text(encoding="utf-8")
    blocks = [block for block in _code_blocks(text) if "mailcfg verify" in block or "command: verify" in block]
    workflows = [block for block in blocks if re.search(r"(?m)^\s*(- )?(name|uses|run):", block)]
    assert workflows
    for block in workflows:
        if "command: verify" in block:
            assert re.search(r"(?m)^\s+allow-host: \S", block), block
            assert re.search(r"(?m)^\s+allow-env: MAILCFG_\*$", block), block
        else:
            commands = _verify_commands(f"```\n{block}```\n")
            assert commands, block
            for command in commands:
                assert "--allow-host " in command, command
                assert "--allow-env 'MAILCFG_*'" in command, command
    assert "GITHUB_TOKEN" in text, "the reason for --allow-env"


def _step_fragments(text: str) -> list[str]:
    """The code blocks that are a list of workflow steps, not a whole workflow."""
    return [block for block in _code_blocks(text) if re.match(r"\s+- (name|uses): ", block)]


@pytest.mark.parametrize("path", [README, DOCS], ids=lambda p: p.name)
def test_docs_step_examples_validate_as_a_workflow(tmp_path: Path, path: Path) -> None:
    """Step-only examples, put into a minimal workflow, pass GitHub's schema and splice nothing into a script."""
    fragments = _step_fragments(path.read_text(encoding="utf-8"))
    assert fragments
    steps = [step for fragment in fragments for step in yaml.safe_load(fragment)]
    assert all("${{" not in step.get("run", "") for step in steps)
    workflow = {
        "name": "examples",
        "on": "push",
        "permissions": {"contents": "read"},
        "jobs": {"examples": {"runs-on": "ubuntu-latest", "timeout-minutes": 10, "steps": steps}},
    }
    target = tmp_path / "examples.yml"
    target.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        run = _check_jsonschema(schema, target)
        assert run.returncode == 0, run.stdout + run.stderr


def test_docs_explain_pull_request_target() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    section = docs.split("\n### Live checks in a pull request\n", 1)[1].split("\n## ", 1)[0]
    assert "**`pull_request`, not `pull_request_target`.**" in section
    assert "Never run `mailcfg verify` with secrets on `pull_request_target`" in section
    assert EXAMPLE_VERIFY_WORKFLOW.read_text(encoding="utf-8") in _code_blocks(section)
    assert "pull_request_target" not in _load(EXAMPLE_VERIFY_WORKFLOW)[True]  # `on:` is YAML 1.1's True


def test_changelog_breaking_changes_show_the_command_line_before_and_after() -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    unreleased = text.split("\n## [Unreleased]\n", 1)[1].split("\n## [", 1)[0]
    headings = re.findall(r"(?m)^### (.+)$", unreleased)
    assert headings[0] == "Breaking changes"
    assert "Security" in headings
    breaking = unreleased.split("### Breaking changes\n", 1)[1].split("\n### ", 1)[0]
    entries = re.split(r"(?m)^- ", breaking)[1:]
    assert len(entries) >= 7
    for entry in entries:
        blocks = _code_blocks(textwrap.dedent(entry.split("\n", 1)[1]))
        assert any("# before" in block and "# after" in block for block in blocks), entry.splitlines()[0]
    for name in TRUST_INPUTS:
        assert f"--{name}" in breaking + unreleased, name
    assert "MC511" in breaking
    assert "MAILCFG_SMTP_PASSWORD" in breaking
    assert "[Unreleased]: https://github.com/mailcfg/mailcfg/compare/" in text


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
    assert set(action["inputs"]) == {"command", "paths", "format", "sarif-file", "version", "strict", *TRUST_INPUTS}
    assert action["inputs"]["format"]["default"] == "github"
    assert action["inputs"]["command"]["default"] == "check"
    assert action["inputs"]["allow-any-host"]["default"] == "false"
    assert all(action["inputs"][name]["default"] == "" for name in TRUST_VARIABLES)
    assert action["inputs"]["max-checks"]["default"] == ""
    assert action["runs"]["using"] == "composite"
    assert all(step.get("shell") == "bash" for _, step in _steps(ACTION) if "run" in step)


# The action's trust inputs; the list-valued ones reach mailcfg as these variables (the CLI's contract).
TRUST_VARIABLES = {
    "allow-host": "MAILCFG_ALLOW_HOST",
    "allow-env": "MAILCFG_ALLOW_ENV",
    "allow-recipient": "MAILCFG_ALLOW_RECIPIENT",
    "allow-insecure": "MAILCFG_ALLOW_INSECURE",
    "allow-command": "MAILCFG_ALLOW_COMMAND",
    "allow-secret-dir": "MAILCFG_ALLOW_SECRET_DIR",
}
TRUST_INPUTS = (*TRUST_VARIABLES, "allow-any-host", "max-checks")
ALL_TRUST_VARIABLES = (*TRUST_VARIABLES.values(), "MAILCFG_ALLOW_ANY_HOST")


def test_action_passes_each_trust_input_as_its_variable() -> None:
    """Both steps that see the trust inputs map each to the MAILCFG_ALLOW_* variable mailcfg reads."""
    expected = {variable: f"${{{{ inputs.{name} }}}}" for name, variable in TRUST_VARIABLES.items()}
    expected["MAILCFG_ALLOW_ANY_HOST"] = "${{ inputs.allow-any-host }}"
    for name in ("Check the inputs", "Run mailcfg"):
        env = _action_step(name)["env"]
        assert {key: value for key, value in env.items() if key.startswith("MAILCFG_ALLOW_")} == expected, name
        assert env["MAILCFG_COMMAND"] == "${{ inputs.command }}"
    names = [step.get("name") for _, step in _steps(ACTION)]
    assert names.index("Check the inputs") < names.index("Install mailcfg") < names.index("Run mailcfg")


# --- the action's scripts, run by bash as the runner does ------------------------------------------------


def _action_step(name: str) -> dict[str, Any]:
    (step,) = [step for _, step in _steps(ACTION) if step.get("name") == name]
    return step


def _run_action_step(
    name: str, cwd: Path, bin_dir: Path, job_env: dict[str, str] | None = None, /, **inputs: str
) -> subprocess.CompletedProcess[str]:
    """One step's script with the inputs mapped through its `env:`; `job_env` is what the job set before."""
    step = _action_step(name)
    env = _clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", RUNNER_TEMP=str(cwd / "runner-temp"))
    env.update(job_env or {})
    for variable, expression in step["env"].items():
        match = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", expression)
        if match:
            env[variable] = inputs.get(match[1], _load(ACTION)["inputs"][match[1]]["default"])
    env["GITHUB_PATH"] = str(cwd / "github-path")
    return subprocess.run(
        ["bash", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )


def _run_action(
    cwd: Path, bin_dir: Path, job_env: dict[str, str] | None = None, /, **inputs: str
) -> subprocess.CompletedProcess[str]:
    """The action's steps but the install, in order, stopping at the first that fails (as the runner does).

    The result is the last step's exit code, with the output of every step that ran.
    """
    stdout = stderr = ""
    for name in ("Check the inputs", "Run mailcfg"):
        run = _run_action_step(name, cwd, bin_dir, job_env, **inputs)
        stdout, stderr = stdout + run.stdout, stderr + run.stderr
        if run.returncode != 0:
            break
    return subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """A directory with a fake `mailcfg` that prints its arguments as JSON (its MAILCFG_ALLOW_* to a file)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mailcfg"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, os, pathlib, sys\n"
        "print(json.dumps(sys.argv[1:]))\n"
        "trust = {k: v for k, v in os.environ.items() if k.startswith('MAILCFG_ALLOW_')}\n"
        f"pathlib.Path({str(bin_dir / 'trust.json')!r}).write_text(json.dumps(trust))\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    return bin_dir


def _trust(recorder: Path) -> dict[str, str]:
    """The MAILCFG_ALLOW_* variables the fake mailcfg saw."""
    trust: dict[str, str] = json.loads((recorder / "trust.json").read_text(encoding="utf-8"))
    return trust


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
    run = _run_action(tmp_path, recorder, **inputs)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected
    assert _trust(recorder) == {}


def test_action_inputs_cannot_inject_shell_code(tmp_path: Path, recorder: Path) -> None:
    (tmp_path / "accounts.yaml").write_text("version: 1\n", encoding="utf-8")  # what `*` would glob to
    paths = "$(touch injected-1) `touch injected-2` * ; touch injected-3"
    run = _run_action(tmp_path, recorder, paths=paths, **{"sarif-file": "a b;$(x)"})
    assert run.returncode == 0, run.stderr
    words = ["$(touch", "injected-1)", "`touch", "injected-2`", "*", ";", "touch", "injected-3"]
    assert json.loads(run.stdout) == ["check", "--format", "github", "--format", "sarif:a b;$(x)", "--", *words]
    assert not list(tmp_path.glob("injected-*"))


@pytest.mark.parametrize(
    ("step", "inputs", "message"),
    [
        ("Check the inputs", {"strict": "yes"}, "input 'strict' must be true or false"),
        ("Check the inputs", {"command": "deploy"}, "input 'command' must be check or verify"),
        ("Check the inputs", {"command": "verify; touch injected"}, "input 'command' must be check or verify"),
        ("Check the inputs", {"command": "verify", "allow-any-host": "yes"}, "input 'allow-any-host' must be"),
        ("Check the inputs", {"max-checks": "0"}, "input 'max-checks' must be a whole number"),
        ("Check the inputs", {"max-checks": "10 --allow-any-host"}, "input 'max-checks' must be a whole number"),
        ("Check the inputs", {"max-checks": "$(touch injected)"}, "input 'max-checks' must be a whole number"),
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


VERIFY_NEEDS_HOSTS = "::error title=mailcfg::command 'verify' needs the input 'allow-host'"


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"allow-host": ""},
        {"allow-host": " ,\n\t, "},  # only separators: no host
        {"allow-any-host": "false"},
        {"allow-env": "MAILCFG_*", "allow-recipient": "*@example.com", "allow-insecure": "relay.example.com"},
    ],
    ids=["no-input", "empty", "separators-only", "any-host-false", "other-settings-only"],
)
def test_action_verify_without_allow_host_fails_before_installing(
    tmp_path: Path, recorder: Path, inputs: dict[str, str]
) -> None:
    run = _run_action_step("Check the inputs", tmp_path, recorder, command="verify", **inputs)
    assert run.returncode == 2, run.stdout + run.stderr
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("::error")]
    assert line.startswith(VERIFY_NEEDS_HOSTS), line
    assert "'allow-any-host: true'" in line
    assert not (tmp_path / "runner-temp").exists(), "refused before anything was installed"
    # The whole action stops there: mailcfg never runs.
    run = _run_action(tmp_path, recorder, command="verify", **inputs)
    assert run.returncode == 2
    assert not (recorder / "trust.json").exists()


def test_action_verify_ignores_the_jobs_own_trust_variables(tmp_path: Path, recorder: Path) -> None:
    """The trust settings come from the action's inputs only; a MAILCFG_ALLOW_HOST on the job does not count."""
    job_env = {"MAILCFG_ALLOW_HOST": "smtp.example.com", "MAILCFG_ALLOW_ANY_HOST": "1"}
    run = _run_action(tmp_path, recorder, job_env, command="verify")
    assert run.returncode == 2
    assert VERIFY_NEEDS_HOSTS in run.stdout


@pytest.mark.parametrize(
    ("inputs", "args", "trust"),
    [
        (
            {"allow-host": "smtp.example.com imap.example.com", "allow-env": "MAILCFG_*"},
            ["verify", "--format", "github", "--"],
            {"MAILCFG_ALLOW_HOST": "smtp.example.com imap.example.com", "MAILCFG_ALLOW_ENV": "MAILCFG_*"},
        ),
        (
            {"allow-any-host": "true"},
            ["verify", "--format", "github", "--"],
            {"MAILCFG_ALLOW_ANY_HOST": "1"},
        ),
        (
            {
                "allow-host": "*.example.com,\n203.0.113.0/24",
                "allow-any-host": "False",
                "allow-env": "MAILCFG_*",
                "allow-recipient": "*@example.com",
                "allow-insecure": "relay.example.com",
                "max-checks": "500",
                "paths": "accounts/",
                "strict": "true",
            },
            ["verify", "--max-checks", "500", "--format", "github", "--strict", "--", "accounts/"],
            {
                "MAILCFG_ALLOW_HOST": "*.example.com,\n203.0.113.0/24",
                "MAILCFG_ALLOW_ENV": "MAILCFG_*",
                "MAILCFG_ALLOW_RECIPIENT": "*@example.com",
                "MAILCFG_ALLOW_INSECURE": "relay.example.com",
            },
        ),
    ],
    ids=["hosts-and-env", "any-host", "all-inputs"],
)
def test_action_verify_passes_the_trust_settings_as_variables(
    tmp_path: Path, recorder: Path, inputs: dict[str, str], args: list[str], trust: dict[str, str]
) -> None:
    """Exactly the given settings reach mailcfg, as MAILCFG_ALLOW_* (never as arguments, never glob-expanded)."""
    (tmp_path / "MAILCFG_x").write_text("", encoding="utf-8")  # what an unquoted MAILCFG_* would expand to
    job_env = {"MAILCFG_ALLOW_RECIPIENT": "*@attacker.example"}  # replaced by the (empty) input
    run = _run_action(tmp_path, recorder, job_env, command="verify", **inputs)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "::error" not in run.stdout
    assert json.loads(run.stdout.splitlines()[-1]) == args
    assert _trust(recorder) == trust


def test_action_trust_inputs_cannot_inject_shell_code(tmp_path: Path, recorder: Path) -> None:
    hostile = {name: f"$(touch injected-{name}) `touch injected-b-{name}`;touch injected-c" for name in TRUST_VARIABLES}
    run = _run_action(tmp_path, recorder, command="verify", **hostile)
    assert run.returncode == 0, run.stdout + run.stderr
    assert _trust(recorder) == {variable: hostile[name] for name, variable in TRUST_VARIABLES.items()}
    assert not list(tmp_path.glob("injected*"))


def test_action_check_warns_that_trust_inputs_are_for_verify(tmp_path: Path, recorder: Path) -> None:
    run = _run_action(tmp_path, recorder, **{"allow-host": "smtp.example.com", "allow-any-host": "true"})
    assert run.returncode == 0, run.stderr
    assert "::warning title=mailcfg::the inputs allow-host" in run.stdout
    assert json.loads(run.stdout.splitlines()[-1]) == ["check", "--format", "github", "--"]
    assert _trust(recorder) == {}, "check gets no trust settings"


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
    run = _run_action_step("Run mailcfg", workspace, real_mailcfg, **{"sarif-file": "mailcfg.sarif"})
    assert run.returncode == 1, run.stderr
    assert "::error file=accounts/users/anna.yaml,line=12,col=15,title=MC201::" in run.stdout
    sarif = json.loads((workspace / "mailcfg.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == ["MC206", "MC201"]


def test_action_check_step_passes_a_good_set(tmp_path: Path, real_mailcfg: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURES / "accounts-good", workspace)
    run = _run_action_step("Run mailcfg", workspace, real_mailcfg, strict="true")
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
