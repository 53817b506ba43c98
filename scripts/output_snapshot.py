"""Write every report mailcfg makes for a fixed set of inputs into one folder, to compare two versions byte by byte.

A refactoring that promises "no behaviour change" runs this before and after and compares the folders:

    python scripts/output_snapshot.py /tmp/before      # on the old commit
    python scripts/output_snapshot.py /tmp/after       # on the new one
    diff -r /tmp/before /tmp/after && echo identical

Inputs: the shipped example, the test fixtures, and generated sets (10,000 accounts in one file with errors,
2,000 in one file per user). Outputs: `check` in every format, `export` json/yaml, `diff` text/markdown/json.
The generated sets are written once to ``--inputs`` (default /tmp/mailcfg-snapshot-inputs) and reused, so
both runs read the very same files under the same paths.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("text", "json", "sarif", "github", "junit")
INPUTS = (
    "accounts.example.yaml",
    "tests/fixtures/diff/old",
    "tests/fixtures/diff/new",
    "tests/fixtures/integrations/accounts-good",
    "tests/fixtures/integrations/accounts-broken",
)


def mailcfg(*args: str) -> bytes:
    """Exit code and both streams of one run, as bytes (the exact output, nothing normalised)."""
    run = subprocess.run([sys.executable, "-m", "validator", *args], capture_output=True, cwd=ROOT, check=False,
                         env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "LANG": "C.UTF-8"})
    return b"exit %d\n--- stdout\n%s--- stderr\n%s" % (run.returncode, run.stdout, run.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--inputs", type=Path, default=Path("/tmp/mailcfg-snapshot-inputs"))
    arguments = parser.parse_args()
    out, generated = arguments.out.resolve(), arguments.inputs.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if not generated.exists():
        for name, size, layout in (("10k-single", 10_000, "single"), ("2k-per-user", 2_000, "per-user")):
            subprocess.run([sys.executable, "benchmarks/generate.py", str(generated / name), "--accounts", str(size),
                            "--layout", layout, "--errors", "0.05"], cwd=ROOT, check=True)
    inputs = [*INPUTS, *(str(path) for path in sorted(generated.iterdir()))]
    for number, target in enumerate(inputs):
        for fmt in FORMATS:
            (out / f"{number:02d}-check.{fmt}").write_bytes(mailcfg("check", "--no-config", "--format", fmt, target))
        for fmt in ("json", "yaml"):
            (out / f"{number:02d}-export.{fmt}").write_bytes(mailcfg("export", "--no-config", "--format", fmt, target))
    old, new = INPUTS[1], INPUTS[2]
    for fmt in ("text", "markdown", "json"):
        (out / f"diff.{fmt}").write_bytes(mailcfg("diff", "--no-config", "--format", fmt, old, new))
    print(f"{len(list(out.glob('*-*')))} outputs in {out}")


if __name__ == "__main__":
    main()
