"""`mailcfg verify` over network latency: 200 IMAP accounts with 200 distinct logins on one host, at 0, 20 and 50 ms
of round-trip time, serial (``--jobs 1``) against the old fixed limits (``--jobs 8 --per-host 4``) and the
default (``--jobs 16``, the adaptive per-host limit: from 4 up to 16); then a server that throttles above a few
sessions, and the round trip's delivery time with IMAP IDLE and with polling.

A standalone script, not a test. It starts the live-test servers itself (tests/live/servers.py: a private Dovecot
2.3, the SMTP servers, the test CA), adds 200+ users to Dovecot, puts tests/live/latency.py's proxy (one-way
delay per chunk in both directions, one round trip for the connect) between mailcfg and Dovecot's implicit-TLS
port (at 0 ms mailcfg talks to Dovecot directly), and runs ``python -m validator verify --format json`` as a
subprocess per setting, ``--max-checks`` above the 201 checks (200 imap accounts and the smtp entry they name,
which is reached without added latency). Every run must end with every check ok, else the script stops with exit
code 1: a benchmark of failures measures nothing.

    python benchmarks/verify_latency.py                          # 0, 20, 50 ms; throttling; round trips
    python benchmarks/verify_latency.py --rtt 50 --repeat 3      # one latency, medians of 3
    python benchmarks/verify_latency.py --accounts 100 --throttle 4 --round-trips 20

Ratios are measured within one run of the script (the settings alternate), so the load of other work on the
machine hits them alike; the load average is printed at the start and the end. "mailcfg CPU" is the user+system
time of the mailcfg process (from wait4): a run whose CPU is close to its wall time is CPU-bound, not waiting.

The throttling run: tests/live/throttling.py in front of Dovecot (behind the latency proxy) takes ``--throttle``
sessions and refuses more with ``* BYE [UNAVAILABLE]`` before the login; it prints what the JSON report's
``hosts`` says the adaptive limit did. The round trips (in-process, ``--round-trip``): an SMTP relay that
answers 250 at once and delivers ``--queue-delay`` seconds later, as a real server's queue does, so the check
has to wait; half the mailboxes on a Dovecot that offers IDLE, half on users whose capability list lacks it
(polling), both behind the latency proxy; the median of the "delivered in" times of each.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live import hostile  # noqa: E402
from tests.live.latency import LatencyProxy  # noqa: E402
from tests.live.servers import DOMAIN, Endpoint, MailServers, numbered_users, running_mail_servers  # noqa: E402
from tests.live.throttling import ThrottlingFront  # noqa: E402

SETTINGS = {
    "--jobs 1": ["--jobs", "1"],
    "old limits (--jobs 8 --per-host 4)": ["--jobs", "8", "--per-host", "4"],
    "default (adaptive, --jobs 16)": [],
}
SERIAL, OLD, DEFAULT = SETTINGS
MAILER = f"mailer@{DOMAIN}"
_DELIVERED = re.compile(r"delivered in (\d+\.\d+) s \(waited with (\w+)\)")


def write_accounts(servers: MailServers, users: dict[str, str], endpoint: Endpoint, directory: Path,
                   smtp: Endpoint | None = None) -> tuple[Path, dict[str, str]]:
    """One imap account per user at ``endpoint`` (its own login, address and password variable), and the smtp entry
    they all name (the STARTTLS server, or ``smtp``), with the shared login mailer@."""
    imap = [servers.imap_entry(user, endpoint, id=user.split("@")[0], password=password)
            for user, password in users.items()]
    entry = servers.smtp_entry(smtp or servers.smtp.starttls, username=MAILER)
    return servers.accounts_yaml(smtp=[entry], imap=imap, directory=directory)


def run_once(servers: MailServers, path: Path, env: dict[str, str], args: list[str]
             ) -> tuple[float, float, dict[str, Any]]:
    """(wall seconds, mailcfg's CPU seconds, JSON report) of one `mailcfg verify` run that must end all ok."""
    command = [sys.executable, "-m", "validator", "verify", str(path), "--no-config", "--ca-file", str(servers.ca_file),
               "--format", "json", "--no-progress", "--allow-any-host", "--max-checks", "1000", *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, **env, "PYTHONPATH": str(ROOT)})
    output: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda name, stream: output.__setitem__(name, stream.read()), args=item)
               for item in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    try:
        report: dict[str, Any] = json.loads(output["out"])
    except json.JSONDecodeError:
        sys.exit(f"mailcfg verify printed no JSON (exit {process.returncode}):\n{output['err'].decode()}")
    failed = [f"{item['account']}: {item['stage']}: {item['message']}" for item in report["live"]
              if item["status"] != "ok"]
    if process.returncode != 0 or failed:
        sys.exit(f"the run failed (exit {process.returncode}):\n" + "\n".join(failed[:10]))
    return seconds, usage.ru_utime + usage.ru_stime, report


def host_line(report: dict[str, Any], host: str) -> str:
    (found,) = [item for item in report["hosts"] if item["host"] == host]
    backoffs = "; ".join(f"{b['seconds']:.2f} s {b['from']}->{b['to']}" for b in found["backoffs"]) or "none"
    return (f"limit reached {found['peak_limit']} (ceiling {found['ceiling']}, at the end {found['limit']}), at most"
            f" {found['peak_sessions']} at once, {found['retries']} checks queued again; back-offs: {backoffs}")


def latency_series(servers: MailServers, users: dict[str, str], rtts: list[int], repeat: int,
                   directory: Path) -> None:
    print("\n== 200 distinct logins on one host: serial, old fixed limits, default ==")
    for rtt in rtts:
        proxy = LatencyProxy(servers.imap.ssl.address, rtt=rtt / 1000) if rtt else None
        if proxy is not None:
            proxy.start()
        try:
            endpoint = Endpoint(proxy.listen_host, proxy.port, "ssl") if proxy else servers.imap.ssl
            path, env = write_accounts(servers, users, endpoint, _fresh(directory, f"rtt{rtt}"))
            times: dict[str, list[float]] = {name: [] for name in SETTINGS}
            cpu: dict[str, list[float]] = {name: [] for name in SETTINGS}
            last: dict[str, Any] = {}
            for repetition in range(repeat):  # interleaved, so drift hits every setting alike
                for name, args in SETTINGS.items():
                    seconds, used, report = run_once(servers, path, env, args)
                    times[name].append(seconds)
                    cpu[name].append(used)
                    last[name] = report
                    print(f"  {rtt:2d} ms RTT, run {repetition + 1}: {name:<36} {seconds:6.2f} s"
                          f"  (mailcfg CPU {used:5.2f} s)", flush=True)
            medians = {name: statistics.median(values) for name, values in times.items()}
            shown = ", ".join(f"{name} {value:.2f} s" for name, value in medians.items())
            print(f"  {rtt:2d} ms RTT medians: {shown}")
            print(f"  {rtt:2d} ms RTT ratios: jobs 1 / default {medians[SERIAL] / medians[DEFAULT]:.2f}x,"
                  f" jobs 1 / old limits {medians[SERIAL] / medians[OLD]:.2f}x,"
                  f" old limits / default {medians[OLD] / medians[DEFAULT]:.2f}x")
            print(f"  {rtt:2d} ms RTT default run: {host_line(last[DEFAULT], endpoint.host)}")
        finally:
            if proxy is not None:
                proxy.stop()


def throttled(servers: MailServers, users: dict[str, str], rtt: int, limit: int, directory: Path) -> None:
    print(f"\n== the same accounts, {rtt} ms RTT, a server that takes {limit} sessions and refuses more ==")
    context = servers.certificates.good.server_context()
    with ThrottlingFront(servers.imap.ssl.address, "imap", limit=limit, tls=context) as front, \
            LatencyProxy(front.address, rtt=rtt / 1000) as proxy:
        endpoint = Endpoint(proxy.listen_host, proxy.port, "ssl")
        path, env = write_accounts(servers, users, endpoint, _fresh(directory, "throttled"))
        seconds, used, report = run_once(servers, path, env, [])
    print(f"  default settings: {seconds:.2f} s (mailcfg CPU {used:.2f} s), all {len(report['live'])} checks ok")
    print(f"  the server refused {front.record.refused} sessions, passed {front.record.passed},"
          f" held at most {front.record.peak} at once")
    print(f"  mailcfg: {host_line(report, endpoint.host)}")


def round_trips(servers: MailServers, idle: dict[str, str], polling: dict[str, str], rtt: int, delay: float,
                directory: Path) -> None:
    from validator import engine
    from validator.live import VerifyOptions
    from validator.trust import Trust

    print(f"\n== --round-trip, {rtt} ms RTT to IMAP, delivery {delay:.2f} s after the relay's 250 ==")
    relay = hostile.Relay("relay", servers.certificates.good.server_context(), servers.deliver, mode="keep")
    stop = threading.Event()
    queue = threading.Thread(target=_deliver_later, args=(servers, relay, delay, stop), daemon=True)
    queue.start()
    try:
        with LatencyProxy(servers.imap.ssl.address, rtt=rtt / 1000) as proxy:
            endpoint = Endpoint(proxy.listen_host, proxy.port, "ssl")
            for label, users in (("IDLE", idle), ("polling", polling)):
                path, env = write_accounts(servers, users, endpoint, _fresh(directory, f"rt-{label}"), relay.endpoint)
                started = time.perf_counter()
                result = engine.verify(engine.CheckOptions(paths=(str(path),), env=env),
                                       VerifyOptions(ca_file=str(servers.ca_file), round_trip=True, max_checks=1000,
                                                     trust=Trust(any_host=True)))
                seconds = time.perf_counter() - started
                found = [_DELIVERED.search(item.stages[-1].message) for item in result.live if item.protocol == "imap"]
                if result.exit_code() != 0 or not all(found):
                    sys.exit(f"the round-trip run ({label}) failed: {[item.message for item in result.live][:5]}")
                times = [float(match.group(1)) for match in found if match]
                hows = {match.group(2) for match in found if match}
                print(f"  {label:<8} {len(times)} mailboxes in {seconds:.2f} s: delivery median"
                      f" {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}); waited with"
                      f" {', '.join(sorted(hows))}")
    finally:
        stop.set()
        relay.stop()
        queue.join(5)


def _deliver_later(servers: MailServers, relay: hostile.Relay, delay: float, stop: threading.Event) -> None:
    """Deliver each message the relay kept ``delay`` seconds after it was accepted (a real server's queue)."""
    seen: list[float] = []
    done = 0
    while not stop.is_set():
        now = time.monotonic()
        seen.extend(now for _ in range(len(relay.messages) - len(seen)))
        while done < len(seen) and now >= seen[done] + delay:
            message = relay.messages[done]
            for recipient in message.recipients:
                servers.deliver(recipient, message.content, message.mail_from)
            done += 1
        time.sleep(0.005)


def _fresh(directory: Path, name: str) -> Path:
    path = directory / name
    path.mkdir()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200, help="IMAP accounts, one login each (default 200)")
    parser.add_argument("--rtt", type=int, nargs="+", default=[0, 20, 50], help="round-trip times in ms")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting and latency (default 1)")
    parser.add_argument("--throttle", type=int, default=6, help="sessions the throttling server takes (0: skip)")
    parser.add_argument("--round-trips", type=int, default=40, help="mailboxes per round-trip run (0: skip)")
    parser.add_argument("--queue-delay", type=float, default=0.5, help="seconds from the relay's 250 to delivery")
    options = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's deprecation notice, once per session

    with running_mail_servers() as servers:
        users = numbered_users(options.accounts, prefix="bench")
        servers.add_users(users)
        idle = numbered_users(options.round_trips, prefix="idle")
        polling = numbered_users(options.round_trips, prefix="poll")
        servers.add_users(idle)
        servers.add_users(polling, ["userdb_imap_capability=IMAP4rev1"])  # Dovecot without IDLE for these
        directory = servers.root / "benchmark"
        directory.mkdir()
        print(f"Dovecot {servers.dovecot_version}; {options.accounts} IMAP accounts (implicit TLS), one login each, + 1"
              f" smtp entry; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; load average at the start"
              f" {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
        latency_series(servers, users, options.rtt, options.repeat, directory)
        if options.throttle:
            throttled(servers, users, max(options.rtt), options.throttle, directory)
        if options.round_trips:
            round_trips(servers, idle, polling, max(options.rtt), options.queue_delay, directory)
        print(f"\nload average at the end {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
