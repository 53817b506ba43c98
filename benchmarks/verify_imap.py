"""How much concurrency buys `mailcfg verify`: 200 IMAP accounts against a local Dovecot, ``--jobs 1`` against
the default limits (``--jobs 16``, the adaptive per-host limit). Over network latency: verify_latency.py.

A standalone script, not a test: it starts the live-test servers itself (tests/live/servers.py: a private
Dovecot 2.3, the SMTP servers, the test CA), writes the accounts, runs ``python -m validator verify`` as a
subprocess several times in each setting and prints the median wall times and their ratio.

    python benchmarks/verify_imap.py                 # 200 accounts, 3 runs per setting
    python benchmarks/verify_imap.py --accounts 50 --repeat 5 --encryption starttls
    python benchmarks/verify_imap.py --shared-tls-context   # what-if: one TLS context per run, see below

Each account has its own login (bench001@example.test …, added to the test Dovecot's users at start): a plan
checks one login at one server once, so accounts sharing the five fixed test users would fold into five checks.
Each run must end with every check ok, else the script stops with exit code 1: a benchmark of failures
measures nothing.

``--shared-tls-context`` is an experiment, not a mailcfg option: it runs the same CLI with
``validator.live.tls.context`` memoised, i.e. one verifying SSLContext per run instead of one per check. Building
a context loads the system trust store (about 33 ms of CPU here), which is most of an IMAP check's cost on
loopback; the figures in benchmarks/README.md show what sharing it would gain.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live.servers import MailServers, numbered_users, running_mail_servers  # noqa: E402

# The what-if of --shared-tls-context: the CLI with tls.context memoised (the CA file is the same for every check).
SHARED_CONTEXT = (
    "import functools, sys; import validator.live.tls as tls; "
    "tls.context = functools.lru_cache(maxsize=None)(tls.context); "
    "from validator.cli import main; sys.exit(main())"
)


def write_accounts(servers: MailServers, count: int, encryption: str, directory: Path) -> tuple[Path, dict[str, str]]:
    endpoint = servers.imap.ssl if encryption == "ssl" else servers.imap.starttls
    users = numbered_users(count)
    servers.add_users(users)
    imap = [
        servers.imap_entry(user, endpoint, id=user.split("@")[0], password=password)
        for user, password in users.items()
    ]
    smtp = [servers.smtp_entry(servers.smtp.starttls)]  # the `outgoing` every account names (checked once)
    return servers.accounts_yaml(smtp=smtp, imap=imap, directory=directory)


def run_once(
    servers: MailServers, path: Path, env: dict[str, str], args: list[str], shared_context: bool = False
) -> tuple[float, dict[str, int]]:
    program = ["-c", SHARED_CONTEXT] if shared_context else ["-m", "validator"]
    command = [
        sys.executable,
        *program,
        "verify",
        str(path),
        "--no-config",
        "--ca-file",
        str(servers.ca_file),
        "--format",
        "json",
        "--no-progress",
        "--allow-any-host",  # our own accounts, on loopback
        "--max-checks",
        "100000",
        *args,
    ]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, check=False)
    seconds = time.perf_counter() - started
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        sys.exit(f"mailcfg verify printed no JSON (exit {completed.returncode}):\n{completed.stderr}")
    statuses: dict[str, int] = {}
    for item in report["live"]:
        statuses[item["status"]] = statuses.get(item["status"], 0) + 1
    if completed.returncode != 0 or set(statuses) != {"ok"}:
        failed = [
            f"{item['account']}: {item['stage']}: {item['message']}"
            for item in report["live"]
            if item["status"] != "ok"
        ][:10]
        sys.exit(f"the run failed (exit {completed.returncode}, {statuses}):\n" + "\n".join(failed))
    return seconds, statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200, help="IMAP accounts (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setting (default 3)")
    parser.add_argument("--encryption", choices=("ssl", "starttls"), default="ssl", help="IMAP TLS mode")
    parser.add_argument(
        "--shared-tls-context",
        action="store_true",
        help="experiment: one TLS context per run instead of one per check (see the docstring)",
    )
    options = parser.parse_args()

    settings = {"--jobs 1": ["--jobs", "1"], "default (--jobs 16, adaptive per host)": []}
    with running_mail_servers() as servers:
        directory = servers.root / "benchmark"
        directory.mkdir()
        path, env = write_accounts(servers, options.accounts, options.encryption, directory)
        print(
            f"Dovecot {servers.dovecot_version}; {options.accounts} IMAP accounts ({options.encryption}), one login "
            f"each, + 1 smtp entry; {os.cpu_count()} CPUs; {options.repeat} runs per setting"
            + ("; EXPERIMENT: one shared TLS context" if options.shared_tls_context else "")
        )
        times: dict[str, list[float]] = {name: [] for name in settings}
        for repetition in range(options.repeat):  # interleaved, so drift hits both settings alike
            for name, args in settings.items():
                seconds, statuses = run_once(servers, path, env, args, options.shared_tls_context)
                times[name].append(seconds)
                print(f"  run {repetition + 1}: {name:<34} {seconds:6.2f} s  {statuses}")
        medians = {name: statistics.median(values) for name, values in times.items()}
        print()
        for name, median in medians.items():
            print(f"{name:<34} median {median:6.2f} s  ({median / (options.accounts + 1) * 1000:.1f} ms per check)")
        serial, parallel = medians.values()
        print(f"{'speed-up (jobs 1 / default)':<34} {serial / parallel:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
