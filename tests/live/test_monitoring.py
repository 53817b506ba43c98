"""The monitoring reports of `mailcfg verify` against the real servers of tests/live/servers.py and oauth2_servers.py:
the Prometheus textfile (read with prometheus_client's parser, every family with the values the servers give, moved
into place whole) and the Nagios plugin (states and exit codes 0-3, output per the plugin guidelines).

The CLI runs in-process (``validator.cli.main``); the servers' own records show what was contacted.
"""

from __future__ import annotations

import datetime
import json
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from monitoring import prometheus_samples, read_plugin_output

from validator.cli import main

from .hostile import subprocess_env
from .oauth2_servers import OAuth2Servers
from .servers import DOMAIN, MailServers
from .test_oauth2_verify import HOST as OAUTH2_HOST
from .test_oauth2_verify import client_credentials
from .test_oauth2_verify import imap_entry as oauth2_imap_entry
from .test_oauth2_verify import smtp_entry as oauth2_smtp_entry
from .test_verify import STAGES

INFO, ANNA, BEN, MAILER = (f"{name}@{DOMAIN}" for name in ("info", "anna", "ben", "mailer"))

Samples = dict[str, list[tuple[dict[str, str], float]]]


@dataclass
class Run:
    code: int
    out: str
    err: str
    started: float  # time.time() around the run
    ended: float

    def explain(self) -> str:
        return f"exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


Verify = Callable[..., Run]


@pytest.fixture
def verify(fresh_mail_servers: MailServers, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
           tmp_path: Path) -> Verify:
    """``verify(smtp=[...], imap=[...], args=[...])``: writes the accounts, sets their variables, runs
    `mailcfg verify` in-process trusting every host (unless ``trust`` says otherwise)."""
    servers = fresh_mail_servers
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)

    def run(*, smtp: Sequence[Mapping[str, Any]] = (), imap: Sequence[Mapping[str, Any]] = (),
            args: Sequence[str] = (), trust: Sequence[str] = ("--allow-any-host",)) -> Run:
        directory = tmp_path / uuid.uuid4().hex[:8]
        directory.mkdir()
        path, variables = servers.accounts_yaml(smtp=smtp, imap=imap, directory=directory)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        started = time.time()
        code = main(["verify", str(path), "--no-config", "--no-color", "--ca-file", str(servers.ca_file),
                     *trust, *args])
        ended = time.time()
        captured = capsys.readouterr()
        assert "internal error" not in captured.err, captured.err
        return Run(code, captured.out, captured.err, started, ended)

    return run


def not_after(chain: Path) -> float:
    """The leaf certificate's notAfter (the first PEM block of a chain file) as a Unix time."""
    leaf = x509.load_pem_x509_certificate(chain.read_bytes())
    return leaf.not_valid_after_utc.replace(tzinfo=datetime.timezone.utc).timestamp()


def check_labels(entry: Mapping[str, Any], protocol: str, credentials: str) -> dict[str, str]:
    return {"account": entry["id"], "credentials": credentials, "protocol": protocol, "host": entry["host"],
            "port": str(entry["port"])}


# ----------------------------------------------------------------------------------------------- prometheus


def test_the_textfile_holds_every_family_with_the_servers_values(fresh_mail_servers: MailServers, verify: Verify,
                                                                tmp_path: Path) -> None:
    servers = fresh_mail_servers
    outgoing = servers.smtp_entry()  # shared credentials: checked once, with its own login
    per_sender = servers.smtp_entry(servers.smtp.ssl, id="per-sender", username=None)  # once per sending account
    info = servers.imap_entry(INFO, outgoing="per-sender")
    anna = servers.imap_entry(ANNA, servers.imap.starttls, outgoing="per-sender")
    ben = servers.imap_entry(BEN)  # the server has no folder 'Sent' for ben: MC509, the check fails
    textfile = tmp_path / "collector" / "mailcfg.prom"
    textfile.parent.mkdir()
    textfile.write_text("# the previous run's file\n", encoding="utf-8")
    before = textfile.stat().st_ino
    report = tmp_path / "report.json"
    run = verify(smtp=[outgoing, per_sender], imap=[info, anna, ben],
                 args=["--format", "text", "--format", f"prometheus:{textfile}", "--format", f"json:{report}"])
    assert run.code == 3, run.explain()
    assert "MC509" in run.out, run.explain()

    # Moved into place whole: a new inode, and nothing else in the collector's folder (no temporary file left).
    assert textfile.stat().st_ino != before
    assert sorted(path.name for path in textfile.parent.iterdir()) == ["mailcfg.prom"]
    text = textfile.read_text(encoding="utf-8")
    families: Samples = prometheus_samples(text)
    assert set(families) == {
        "mailcfg_check_success", "mailcfg_check_duration_seconds", "mailcfg_stage_duration_seconds",
        "mailcfg_certificate_expiry_timestamp_seconds", "mailcfg_findings", "mailcfg_findings_by_rule",
        "mailcfg_last_run_timestamp_seconds", "mailcfg_run_duration_seconds"}  # tokens: the OAuth2 test below

    # One series per check: the smtp entry without credentials once per sending account's login; good 1, bad 0.
    expected = [
        (check_labels(outgoing, "smtp", "outgoing"), 1.0),
        (check_labels(per_sender, "smtp", "info"), 1.0),
        (check_labels(per_sender, "smtp", "anna"), 1.0),
        (check_labels(info, "imap", "info"), 1.0),
        (check_labels(anna, "imap", "anna"), 1.0),
        (check_labels(ben, "imap", "ben"), 0.0),
    ]
    assert families["mailcfg_check_success"] == expected
    durations = families["mailcfg_check_duration_seconds"]
    assert [labels for labels, _ in durations] == [labels for labels, _ in expected]
    assert all(0 < seconds < run.ended - run.started for _, seconds in durations), durations

    # Each check's stages, as the text report lists them (EHLO, run twice around STARTTLS, once with both times).
    stages: dict[tuple[str, str, str], dict[str, float]] = {}
    for labels, seconds in families["mailcfg_stage_duration_seconds"]:
        assert set(labels) == {"account", "credentials", "protocol", "stage"}, labels
        stages.setdefault((labels["protocol"], labels["account"], labels["credentials"]), {})[labels["stage"]] = seconds
    passing = {("smtp", "outgoing", "outgoing"): ("smtp", "starttls"), ("smtp", "per-sender", "info"): ("smtp", "ssl"),
               ("smtp", "per-sender", "anna"): ("smtp", "ssl"), ("imap", "info", "info"): ("imap", "ssl"),
               ("imap", "anna", "anna"): ("imap", "starttls"), ("imap", "ben", "ben"): ("imap", "ssl")}
    assert set(stages) == set(passing)
    for key, kind in passing.items():
        assert set(stages[key]) == set(STAGES[kind]), (key, stages[key])
        assert all(seconds >= 0 for seconds in stages[key].values())

    # The certificates' notAfter, exactly as issued, one series per server; in the future.
    certificates = families["mailcfg_certificate_expiry_timestamp_seconds"]
    good = not_after(servers.certificates.good.chain)
    endpoints = {(entry["host"], str(entry["port"])) for entry in (outgoing, per_sender, info, anna, ben)}
    assert certificates == [({"host": host, "port": port}, good) for host, port in sorted(endpoints)]
    assert good > run.ended

    # The findings as the JSON report of the same run counts them: MC509 the one error (and warnings, infos).
    document = json.loads(report.read_text(encoding="utf-8"))
    summary = document["summary"]
    assert families["mailcfg_findings"] == [
        ({"severity": "error"}, 1.0), ({"severity": "warning"}, summary["warnings"]),
        ({"severity": "info"}, summary["infos"])]
    by_rule = Counter(item["rule"] for item in document["findings"])
    assert by_rule["MC509"] == 1
    assert families["mailcfg_findings_by_rule"] == [
        ({"rule": rule}, float(count)) for rule, count in sorted(by_rule.items())]
    ((_, stamp),) = families["mailcfg_last_run_timestamp_seconds"]
    assert run.started <= stamp <= run.ended
    ((_, seconds),) = families["mailcfg_run_duration_seconds"]
    assert 0 < seconds <= run.ended - run.started

    # Ids only: no username (and no password) in any label value or anywhere in the file.
    for secret in [*servers.passwords.values(), MAILER, INFO, ANNA, BEN]:
        assert secret not in text

    # The next run replaces the file again, whole.
    inode = textfile.stat().st_ino
    again = verify(smtp=[outgoing], imap=[servers.imap_entry(INFO)], args=["--format", f"prometheus:{textfile}"])
    assert again.code == 0, again.explain()
    assert textfile.stat().st_ino != inode
    assert sorted(path.name for path in textfile.parent.iterdir()) == ["mailcfg.prom"]
    assert [value for _, value in prometheus_samples(textfile.read_text())["mailcfg_check_success"]] == [1.0, 1.0]


def test_the_textfile_has_the_oauth2_tokens_expiry(oauth2_servers: OAuth2Servers, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    servers = oauth2_servers
    oauth2, env = client_credentials(servers, "alice@example.test")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1,
        "smtp": [oauth2_smtp_entry(servers, authentication="none")],
        "imap": [oauth2_imap_entry(servers, "alice-app", "alice@example.test", oauth2)],
    }, sort_keys=False), encoding="utf-8")
    textfile = tmp_path / "mailcfg.prom"
    started = time.time()
    code = main(["verify", str(path), "--no-config", "--ca-file", str(servers.ca_file), "--allow-host", OAUTH2_HOST,
                 "--allow-host", "127.0.0.1", "--format", f"prometheus:{textfile}"])
    ended = time.time()
    assert code == 0, capsys.readouterr()
    text = textfile.read_text(encoding="utf-8")
    families = prometheus_samples(text)
    ((labels, expires),) = families["mailcfg_token_expiry_timestamp_seconds"]
    assert labels == {"account": "alice-app"}
    lifetime = 3600  # what the token endpoint says (oauth2_servers.ACCESS_TOKEN_LIFETIME)
    assert started + lifetime <= expires <= ended + lifetime
    success = {(labels["protocol"], labels["account"], labels["credentials"]): value
               for labels, value in families["mailcfg_check_success"]}
    assert success == {("smtp", "out", ""): 1.0, ("imap", "alice-app", "alice-app"): 1.0}  # "": no login
    for secret in env.values():
        assert secret not in text
    assert "alice@" not in text


# ----------------------------------------------------------------------------------------------- nagios


def test_nagios_ok(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO)], args=["--format", "nagios"])
    plugin = read_plugin_output(run.out)
    assert (run.code, plugin.state) == (0, "OK"), run.explain()
    assert plugin.text == "1 file, 2 accounts: 0 errors, 0 warnings; live checks: 2 ok"
    assert list(plugin.perfdata) == ["errors", "warnings", "smtp outgoing time", "smtp outgoing cert days",
                                     "imap info time", "imap info cert days"]
    days_left = (not_after(servers.certificates.good.chain) - run.ended) / 86400
    for name in ("smtp outgoing", "imap info"):
        elapsed = plugin.perfdata[f"{name} time"]
        assert (elapsed.uom, elapsed.minimum) == ("s", "0")
        assert 0 < elapsed.value < run.ended - run.started
        days = plugin.perfdata[f"{name} cert days"]
        assert days.value == pytest.approx(days_left, abs=0.1)
        assert (days.warn, days.crit) == ("21:", "0:")
    assert plugin.details == []


def test_nagios_warning_for_an_expiring_certificate_only(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    smtp, imap = servers.smtp_entry(servers.smtp.expiring), servers.imap_entry(INFO, servers.imap.expiring)
    run = verify(smtp=[smtp], imap=[imap], args=["--format", "nagios"])
    plugin = read_plugin_output(run.out)
    assert (run.code, plugin.state) == (1, "WARNING"), run.explain()
    assert plugin.text == "1 file, 2 accounts: 0 errors, 2 warnings; live checks: 2 warning"
    assert len(plugin.details) == 2, plugin.details
    for line, (name, entry) in zip(plugin.details, (("smtp outgoing", smtp), ("imap info", imap)), strict=True):
        assert re.fullmatch(
            rf"WARNING: {name} {entry['host']}:{entry['port']} certificate: certificate expires in [45] days", line)
        days = plugin.perfdata[f"{name} cert days"]
        assert 4 < days.value <= 5  # the certificate was issued to expire 5 days after the servers started
        assert days.warn == "21:"
    # A warning still lets the check log in; mailcfg's own code for this run is 0.
    assert [a.success for a in servers.smtp.expiring.record.auth_attempts] == [True]
    assert verify(smtp=[smtp], imap=[imap]).code == 0


def test_nagios_critical_for_a_failed_check(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    smtp = servers.smtp_entry(password="Wrong-Password-16")  # MC507
    expiring = servers.imap_entry(INFO, servers.imap.expiring)  # MC505, a warning
    ben = servers.imap_entry(BEN)  # MC509: the server has no folder 'Sent' for ben
    run = verify(smtp=[smtp], imap=[expiring, ben], args=["--format", "nagios"])
    plugin = read_plugin_output(run.out)
    assert (run.code, plugin.state) == (2, "CRITICAL"), run.explain()  # errors beside a warning: CRITICAL
    assert plugin.text == "1 file, 3 accounts: 2 errors, 1 warning; live checks: 1 warning, 2 failed"
    assert [line.split(": ", 1)[0] + ": " + line.split(": ", 1)[1].split(":", 1)[0] for line in plugin.details] == [
        f"CRITICAL: smtp outgoing {smtp['host']}", f"WARNING: imap info {expiring['host']}",
        f"CRITICAL: imap ben {ben['host']}"]
    assert re.search(r" auth: .*authentication", plugin.details[0], re.IGNORECASE), plugin.details
    assert " folders: Sent folder 'Sent' does not exist" in plugin.details[2], plugin.details
    assert (plugin.perfdata["errors"].value, plugin.perfdata["warnings"].value) == (2, 1)
    assert "smtp outgoing cert days" in plugin.perfdata  # the certificate was seen before the login failed
    assert "Wrong-Password-16" not in run.out + run.err
    assert [a.success for a in servers.smtp.starttls.record.auth_attempts] == [False]  # really refused


def test_nagios_unknown_for_a_usage_error_before_any_connection(fresh_mail_servers: MailServers,
                                                                verify: Verify) -> None:
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO)], args=["--format", "nagios"], trust=())
    plugin = read_plugin_output(run.out)
    assert (run.code, plugin.state, plugin.perfdata, plugin.details) == (3, "UNKNOWN", {}, []), run.explain()
    assert "--allow-host" in plugin.text
    assert servers.smtp.starttls.record.connections == 0
    # Without nagios on stdout the same run is mailcfg's usage error, 2.
    assert verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO)], trust=()).code == 2


def test_nagios_unknown_for_ctrl_c_during_the_live_checks(fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    """SIGINT while a check waits for a server that never greets: the plugin's 3, with the UNKNOWN line first."""
    servers = fresh_mail_servers
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks
        silent.settimeout(15)
        smtp = servers.smtp_entry(id="silent", host="127.0.0.1", port=silent.getsockname()[1])
        path, variables = servers.accounts_yaml(smtp=[smtp], imap=[servers.imap_entry(INFO, outgoing="silent")],
                                                directory=tmp_path)
        process = subprocess.Popen(
            [sys.executable, "-m", "validator", "verify", str(path), "--no-config", "--timeout", "30", "--ca-file",
             str(servers.ca_file), "--allow-any-host", "--format", "nagios"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env(variables))
        try:
            connection, _ = silent.accept()  # mailcfg is in the live checks now
            with connection:
                process.send_signal(signal.SIGINT)
                out, err = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    text = out.decode()
    plugin = read_plugin_output(text)
    assert (process.returncode, plugin.state) == (3, "UNKNOWN"), (text, err)
    assert re.search(r"; interrupted after [01] finished checks?$", plugin.text), text
    assert b"mailcfg: interrupted" in err
