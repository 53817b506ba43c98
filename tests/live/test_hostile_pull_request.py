"""`mailcfg verify` on a tree prepared as a hostile pull request would prepare it, as a CI job runs it.

The job trusts its own mail hosts (``--allow-host``) and its own secrets (``--allow-env 'MAILCFG_*'``); the pull
request controls every file of the tree: a symlink to ``/proc/self/environ``, a ``.mailcfg.yaml`` whose ``paths``
leave the tree, a "password" that names a CI secret for a host of its choosing, and strings with control
characters and workflow commands. The canary (a CI secret in the job's environment) must appear in no output,
and no host outside the list may see a connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .hostile import subprocess_env
from .servers import DOMAIN, MailServers, Secret

CANARY = "Ci-Secret-Canary-5b1e0d9a"
FORMATS = ("text", "json", "sarif", "github", "junit")


def write_tree(servers: MailServers, root: Path, *, with_static_attacks: bool) -> tuple[Path, dict[str, str]]:
    """The pull request's tree; returns the repository root and the job's secrets for its own accounts."""
    repo = root / "repo"
    (repo / "accounts").mkdir(parents=True)
    (root / "outside.yaml").write_text("version: 1\n# outside the repository\n", encoding="utf-8")
    ours = servers.smtp.ssl.endpoint.at(servers.hosts.localhost)  # the host the job trusts
    theirs = servers.smtp.starttls.endpoint  # 127.0.0.2: not in the list
    stolen = servers.smtp_entry(ours, id="exfil")  # a trusted host, where the attacker has a mailbox
    stolen["credentials"]["password"] = Secret("CI_DEPLOY_TOKEN", CANARY)
    smtp: list[dict[str, Any]] = [
        servers.smtp_entry(ours, id="ours"),
        stolen,
        servers.smtp_entry(theirs, id="scan", username=None, authentication="none"),
    ]
    imap: list[dict[str, Any]] = [servers.imap_entry(f"info@{DOMAIN}", servers.imap.ssl.at(servers.hosts.localhost),
                                                     outgoing="ours")]
    config: dict[str, Any] = {"paths": ["accounts"]}
    if with_static_attacks:
        imap[0]["sent_folder"] = "Sent\r\n::error file=x.yaml::forged"
        smtp[0]["name"] = "Postausgang \x1b]0;pwned\x07 \u202eevil"
        (repo / "accounts" / "zz.yaml").symlink_to("/proc/self/environ")
        (repo / "accounts" / "env.yml").symlink_to("/proc/self/environ")
        config["paths"] = ["/proc/self/environ", "accounts", "../outside.yaml"]
    path, env = servers.accounts_yaml(smtp=smtp, imap=imap, directory=repo / "accounts", filename="main.yaml")
    assert path.exists()
    (repo / ".mailcfg.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (repo / ".git").mkdir()  # the configuration is looked up to the repository root
    env.pop("CI_DEPLOY_TOKEN")
    return repo, env


def run_job(servers: MailServers, repo: Path, secrets: dict[str, str]) -> tuple[int, dict[str, str]]:
    """The CI job: every format to a file, the step summary on, the canary in the environment."""
    reports = {name: repo.parent / f"report.{name}" for name in FORMATS}
    summary = repo.parent / "summary.md"
    command = [sys.executable, "-m", "validator", "verify", "--no-color", "--ca-file", str(servers.ca_file),
               "--timeout", "10", "--allow-host", "localhost", "--allow-env", "MAILCFG_*",
               *[f"--format={name}:{file}" for name, file in reports.items()], "--format", "text"]
    env = subprocess_env(secrets)
    env.update({"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary),
                "CI_DEPLOY_TOKEN": CANARY})
    completed = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace",
                               env=env, cwd=repo, timeout=120, check=False)
    outputs = {"stdout": completed.stdout, "stderr": completed.stderr}
    for name, file in reports.items():
        outputs[name] = file.read_text(encoding="utf-8", errors="replace") if file.exists() else ""
    outputs["step summary"] = summary.read_text(encoding="utf-8") if summary.exists() else ""
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed.returncode, outputs


def assert_clean(outputs: dict[str, str]) -> None:
    leaks = [where for where, text in outputs.items() if CANARY in text]
    assert leaks == [], f"the canary appears in {leaks}"
    environ_marker = f"PATH={os.environ.get('PATH', '')}"
    assert all(environ_marker not in text for text in outputs.values()), "the environment was printed"
    for where, text in outputs.items():
        for line in text.splitlines():
            assert not line.startswith("::error file=x.yaml"), (where, line)
            assert "\x1b]" not in line, (where, line)
            assert "\u202e" not in line, (where, line)


def test_hostile_tree_is_refused_whole(fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    """Every attack at once: the static stage refuses the tree (exit 1) and nothing is contacted at all."""
    servers = fresh_mail_servers
    repo, secrets = write_tree(servers, tmp_path, with_static_attacks=True)
    code, outputs = run_job(servers, repo, secrets)
    assert code == 1, outputs
    assert_clean(outputs)
    text = outputs["stdout"]
    for rule in ("MC004", "MC006", "MC104"):
        assert rule in text, (rule, text)
    assert all(server.record.connections == 0 for server in servers.smtp.all())


def test_hostile_accounts_reach_only_the_trusted_host(fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    """What passes the static stage: the stolen-secret entry and the port scan are withheld (MC511), the
    job's own accounts are checked, and only the trusted host sees connections."""
    servers = fresh_mail_servers
    repo, secrets = write_tree(servers, tmp_path, with_static_attacks=False)
    code, outputs = run_job(servers, repo, secrets)
    assert code == 3, outputs
    assert_clean(outputs)
    theirs = servers.smtp.starttls.record
    assert theirs.connections == 0, theirs.summary()
    assert [a.username for a in servers.smtp.ssl.record.credentials_received] == [f"mailer@{DOMAIN}"]
    text = outputs["stdout"]
    assert text.count("error[MC511]") == 2, text
    assert "--allow-env CI_DEPLOY_TOKEN" in text
