"""Measure `mailcfg check` against check-jsonschema and the YAML parsing floor, side by side.

    python benchmarks/check.py [--sizes 1000 10000 100000] [--reps 3] [--layouts single per-user]

For each size and layout it generates an account set (benchmarks/generate.py, cached under
$TMPDIR/mailcfg-bench), then times, as whole processes on the same files, with several repetitions:

- mailcfg:          python -m validator check --no-config PATH   (schema + every rule)
- check-jsonschema: check-jsonschema --schemafile schema/accounts.schema.json FILES   (schema only)
- floor:            python -c "yaml.compose(text, Loader=CSafeLoader)" over the same files

and prints medians, the ratios mailcfg/floor and check-jsonschema/mailcfg, time per account, and
mailcfg's peak memory. It ends with the cold start on a tiny file. Figures, not assertions.
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
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - began, usage.ru_maxrss, process.returncode


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
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / "mailcfg-bench"
    python = sys.executable
    cjs = [python, "-m", "check_jsonschema", "--schemafile", str(SCHEMA)]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {args.reps} runs\n")
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
    tiny = ROOT / "accounts.example.yaml"
    cold_mc, _ = measure([[python, "-m", "validator", "check", "--no-config", str(tiny)]], 10)
    cold_cjs, _ = measure([[*cjs, str(tiny)]], 10)
    cold_version, _ = measure([[python, "-m", "validator", "--version"]], 10)
    print(
        f"\ncold start on accounts.example.yaml (median of 10): mailcfg {cold_mc:.3f}s, "
        f"check-jsonschema {cold_cjs:.3f}s, ratio {cold_mc / cold_cjs:.2f}; mailcfg --version {cold_version:.3f}s"
    )


if __name__ == "__main__":
    main()
