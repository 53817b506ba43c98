"""Measure `mailcfg check` against check-jsonschema and the YAML parsing floor, side by side.

    python benchmarks/check.py [--sizes 1000 10000 100000] [--reps 3] [--layouts single per-user]

For each size and layout it generates an account set (benchmarks/generate.py, cached under
$TMPDIR/mailcfg-bench), then times, as whole processes on the same files, with several repetitions:

- mailcfg:          python -m validator check --no-config PATH   (schema + every rule)
- check-jsonschema: check-jsonschema --schemafile schema/accounts.schema.json FILES   (schema only)
- floor:            python -c "yaml.compose(text, Loader=CSafeLoader)" over the same files

and prints medians, the ratios mailcfg/floor and check-jsonschema/mailcfg, time per account, and
mailcfg's peak memory. It ends with the cold start on a tiny file (accounts.example.yaml): mailcfg, yamllint
and check-jsonschema run alternately, ``--cold`` times each, medians of wall and CPU time (from ``wait4``).
Figures, not assertions; the load average is printed, since the machine may be shared.

    python benchmarks/check.py --cold-only --cold 41        # just the cold start
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import generate  # noqa: E402 - the sibling script, importable once the path is set

SCHEMA = ROOT / "schema" / "accounts.schema.json"
FLOOR = (
    "import sys, yaml\n"
    "for path in sys.argv[1:]:\n"
    "    with open(path, encoding='utf-8') as f: yaml.compose(f.read(), Loader=yaml.CSafeLoader)\n"
)
BATCH = 5000  # files per check-jsonschema call: its command line must stay under ARG_MAX


def timed(command: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in KiB, exit code) of one process."""
    seconds, _, rss, code = timed_cpu(command)
    return seconds, rss, code


def timed_cpu(command: list[str]) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds (user + system), peak RSS in KiB, exit code) of one process."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, process.returncode


def cold_start(commands: dict[str, list[str]], reps: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each command, run alternately ``reps`` times: a load that comes and goes
    then weighs on every command alike."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # once each first: the files into the page cache
        timed_cpu(command)
    for _ in range(reps):
        for name, command in commands.items():
            wall, cpu, _, _ = timed_cpu(command)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name])) for name in commands}


def report_cold_start(python: str, cjs: list[str], reps: int) -> None:
    tiny = str(ROOT / "accounts.example.yaml")
    commands = {
        "mailcfg check": [python, "-m", "validator", "check", "--no-config", tiny],
        "yamllint": [python, "-m", "yamllint", tiny],
        "check-jsonschema": [*cjs, tiny],
        "mailcfg --version": [python, "-m", "validator", "--version"],
        "python -c pass": [python, "-c", "pass"],
    }
    before = os.getloadavg()
    medians = cold_start(commands, reps)
    after = os.getloadavg()
    print(f"\ncold start on accounts.example.yaml, alternating, medians of {reps} (wall, CPU):")
    for name, (wall, cpu) in medians.items():
        print(f"  {name:<18} {wall * 1000:7.1f} ms {cpu * 1000:7.1f} ms")
    mailcfg, yamllint = medians["mailcfg check"], medians["yamllint"]
    print(
        f"  mailcfg / yamllint: {mailcfg[0] / yamllint[0]:.2f} (wall), {mailcfg[1] / yamllint[1]:.2f} (CPU); "
        f"mailcfg / check-jsonschema: {mailcfg[0] / medians['check-jsonschema'][0]:.2f} (wall)"
    )
    print(f"  load average {before[0]:.2f} before, {after[0]:.2f} after")


def files_of(paths: list[Path]) -> list[str]:
    out: list[str] = []
    for path in paths:
        if path.is_dir():
            out += sorted(str(p) for p in path.rglob("*.yaml"))
        else:
            out.append(str(path))
    return out


def measure(commands: list[list[str]], reps: int) -> tuple[float, int]:
    """Median wall time of running ``commands`` one after another, and the largest peak RSS seen."""
    totals, peak = [], 0
    for _ in range(reps):
        total = 0.0
        for command in commands:
            seconds, rss, _ = timed(command)
            total += seconds
            peak = max(peak, rss)
        totals.append(total)
    return statistics.median(totals), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--layouts", nargs="+", default=["single", "per-user"], choices=["single", "per-user"])
    parser.add_argument("--reps", type=int, default=3, help="repetitions (median); 100k sets use one fewer, at least 1")
    parser.add_argument("--skip-check-jsonschema", action="store_true")
    parser.add_argument(
        "--cjs-max",
        type=int,
        default=10000,
        help="skip check-jsonschema above this many accounts (it needs minutes there)",
    )
    parser.add_argument("--cold", type=int, default=21, help="runs of each command for the cold start (median)")
    parser.add_argument("--cold-only", action="store_true", help="only the cold start")
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / "mailcfg-bench"
    python = sys.executable
    cjs = [python, "-m", "check_jsonschema", "--schemafile", str(SCHEMA)]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    if args.cold_only:
        report_cold_start(python, cjs, args.cold)
        return
    print(f"medians of {args.reps} runs\n")
    header = (
        f"{'accounts':>8} {'layout':<9} {'mailcfg':>8} {'floor':>7} {'cjs':>8} "
        f"{'mc/floor':>8} {'cjs/mc':>7} {'µs/acct':>8} {'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    per_account: dict[tuple[str, int], float] = {}
    for layout in args.layouts:
        for size in args.sizes:
            target = cache / f"{layout}-{size}"
            if not target.exists():
                generate(target, size, layout, 0.0)
            paths = [target / "accounts.yaml"] if layout == "single" else [target]
            files = files_of(paths)
            reps = max(1, args.reps - (1 if size >= 100000 else 0))
            mailcfg, peak = measure([[python, "-m", "validator", "check", "--no-config", *map(str, paths)]], reps)
            floor, _ = measure(
                [[python, "-c", FLOOR, *files[i : i + BATCH]] for i in range(0, len(files), BATCH)], reps
            )
            if args.skip_check_jsonschema or size > args.cjs_max:
                cjs_time = float("nan")
            else:
                batches = [[*cjs, *files[i : i + BATCH]] for i in range(0, len(files), BATCH)]
                cjs_time, _ = measure(batches, reps)
            per_account[(layout, size)] = mailcfg / size * 1e6
            print(
                f"{size:>8} {layout:<9} {mailcfg:>7.2f}s {floor:>6.2f}s {cjs_time:>7.2f}s "
                f"{mailcfg / floor:>8.2f} {cjs_time / mailcfg:>7.1f} {mailcfg / size * 1e6:>8.1f} {peak / 1024:>8.0f}",
                flush=True,
            )
    for layout in args.layouts:
        small, large = (layout, min(args.sizes)), (layout, max(args.sizes))
        if small != large and small in per_account and large in per_account:
            print(
                f"\nscaling ({layout}): time per account at {large[1]:,} / at {small[1]:,} = "
                f"{per_account[large] / per_account[small]:.2f}"
            )
    report_cold_start(python, cjs, args.cold)


if __name__ == "__main__":
    main()
