#!/usr/bin/env python3
"""Fuzz mailcfg's YAML loader (and, with ``--target engine``, the whole static pipeline) for minutes.

Every input must be handled without an exception, within a time bound, and with every finding's rule a
known rule id and its position inside the input. Two engines:

- ``atheris`` (coverage-guided libFuzzer; ``pip install atheris``, binary wheels need no compiler): runs
  in a child process and stops at the first failure, writing the input to the artifacts directory;
- ``mutate`` (built in, no dependency): byte- and YAML-aware mutations of a seed corpus, with the set of
  findings an input produces as a cheap novelty signal; it keeps going after a failure and reports each
  distinct one.

Examples::

    python fuzz/fuzz_loader.py --minutes 10                    # atheris when installed, else mutate
    python fuzz/fuzz_loader.py --engine mutate --seconds 30 --seed 1
    python fuzz/fuzz_loader.py --target engine --minutes 10    # loader + schema + rules + every reporter
    python fuzz/fuzz_loader.py --replay path/to/input ...      # run saved inputs, show what fails

The last line on stdout is a JSON summary (engine, target, seconds, iterations, failures, ...).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NAME = "fuzzed.yaml"
# The line breaks libyaml counts; positions are judged by the same lines the text report shows.
BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
MAX_NODES_WALKED = 2000
# Numbers and quoted text in messages vary per input; without them a message is a template.
_VARYING = re.compile(r"[0-9]+|'[^']*'|`[^`]*`|\(character .*\)|\(byte .*\)")

SEEDS: tuple[bytes, ...] = (
    b"version: 1\n",
    b"version: 1\nusers:\n  - id: anna\n    name: Anna Muster\n",
    b"version: 1\nsmtp:\n  - id: out\n    host: smtp.example.com\n    port: 587\n    encryption: starttls\n"
    b"    credentials:\n      username: mailer@example.com\n      password: {env: SMTP_PASSWORD}\n"
    b"      contact: IT desk\n    test_recipient: it@example.com\n"
    b"imap:\n  - id: info\n    scope: system\n    address: info@example.com\n    host: imap.example.com\n"
    b"    encryption: ssl\n    outgoing: out\n    credentials:\n      username: info@example.com\n"
    b"      password: {env: IMAP_PASSWORD}\n    sent_folder: Sent\n    allow_insecure: false\n",
    b"version: 1\nsmtp: [{id: o, host: smtp.example.com, encryption: ssl, port: 0465}]\n"
    b"imap: [{id: i, scope: user, user: anna, address: a@b.test, host: h.test, encryption: none,"
    b" outgoing: o, credentials: {username: u, password: hunter2}}]\n",
    b"version: 1\nusers:\n  - &a {id: a}\n  - <<: *a\n    name: yes\n  - {id: b, id: c}\n---\nversion: 2\n",
    b"%YAML 1.1\n---\nversion: !!int 1\nsmtp: !!seq []\n...\n",
)
TOKENS: tuple[bytes, ...] = tuple(
    token.encode() if isinstance(token, str) else token
    for token in (
        "version: 1\n", "users:\n", "smtp:\n", "imap:\n", "- ", ": ", "  ", "\n", "{", "}", "[", "]", ", ", "&a ",
        "*a", "&b ", "*b", "<<: ", "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!binary ", "!!set ",
        "!!map ", "!!seq ", "!!timestamp ", "!!python/object:os.system ", "!x ", "! ", "---\n", "...\n",
        "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "? ", "|\n", ">-\n", "'", '"', "\\x00", "\\u2028", "\\", "# ",
        "\t", "\r\n", "\r", "yes", "no", "on", "off", "0465", "0587", "0x1F", "0b11", "1_000", "1:30", "~",
        "null", ".inf", ".nan", "-.Inf", "2001-12-14", "{env: A}", "password: ", "passwort: ", "credentials:\n",
        "username: ", "encryption: ", "ssl", "starttls", "tls", "none", "port: ", "host: ", "address: ", "id: ",
        "outgoing: ", "scope: ", "user", "system", "user: ", "allow_insecure: ", "test_recipient: ",
        "sent_folder: ", "contact: ", "a@b.example", "[::1]", "xn--", "# mailcfg: ignore[MC403] why\n",
        b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\xc3", b"\xff", "ä", "\u2028", "\x85", "\ufeff", "𝔪",
    )
)


class InvariantError(AssertionError):
    """An input broke one of the fuzz invariants (not an exception inside mailcfg)."""

    def __init__(self, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind or message


class Hang(Exception):
    """One input took longer than --timeout seconds."""


# ------------------------------------------------------------------------------------------ invariants


def file_lines(raw: bytes) -> list[str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return BREAKS.split(raw.decode("utf-8", "replace"))


def position_problem(line: object, column: object, lines: list[str]) -> str | None:
    if type(line) is not int or type(column) is not int:
        return f"position {line!r}:{column!r} is not a pair of integers"
    if line == len(lines) + 1 and column == 1 and lines[-1]:
        return None  # libyaml's end of a stream without a final line break
    if not 1 <= line <= len(lines):
        return f"line {line} outside 1..{len(lines)}"
    if not 1 <= column <= len(lines[line - 1]) + 1:
        return f"column {column} outside 1..{len(lines[line - 1]) + 1} of line {line}"
    return None


def check_findings(findings: Iterable[Any], raw: bytes, name: str | None = None) -> None:
    """Raise InvariantError unless every finding has a known rule and a position inside ``raw``."""
    from validator.finding import Severity
    from validator.registry import RULES

    lines = file_lines(raw)
    for item in findings:
        if item.rule not in RULES:
            raise InvariantError(f"unknown rule {item.rule!r}: {item}")
        if not isinstance(item.severity, Severity) or not isinstance(item.message, str) or not item.message:
            raise InvariantError(f"malformed finding: {item}")
        if name is not None and item.file != name:
            raise InvariantError(f"finding for another file: {item}")
        problem = position_problem(item.line, item.column, lines)
        if problem:
            kind = f"{problem.split()[0]} out of range in {item.rule}: {_VARYING.sub('#', item.message)[:50]}"
            raise InvariantError(f"{problem}: {item}", kind)


def _node_paths(data: Any) -> Iterable[tuple[Any, ...]]:
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    walked = 0
    while stack and walked < MAX_NODES_WALKED:
        path, node = stack.pop()
        walked += 1
        yield path
        if isinstance(node, dict):
            stack.extend(((*path, key), value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, index), value) for index, value in enumerate(node))


def check_marks(source: Any, raw: bytes) -> None:
    """Every node's recorded position (of its value and of its key) lies inside the input."""
    lines = file_lines(raw)
    for document in source.documents:
        for path in _node_paths(document.data):
            for key in (False, True):
                location = document.location(path, key=key)
                problem = position_problem(location.line, location.column, lines)
                if problem:
                    raise InvariantError(f"{problem}: document {document.index}, path {path!r}, key={key}")


# ------------------------------------------------------------------------------------------ targets


def make_target(kind: str, workdir: Path) -> Callable[[bytes], None]:
    """The function one input is run through; it raises on any failure."""
    from validator import engine, loader
    from validator.reporters import FORMATS, ReportOptions, render

    if kind == "loader":

        def loader_target(raw: bytes) -> None:
            source = loader.load_bytes(raw, NAME)
            check_findings(source.findings, raw, NAME)
            check_marks(source, raw)

        return loader_target

    path = workdir / NAME
    options = engine.CheckOptions(paths=(str(path),))

    def engine_target(raw: bytes) -> None:
        path.write_bytes(raw)
        result = engine.run(options)
        check_findings(result.findings, raw, str(path))
        if result.exit_code() not in (0, 1):
            raise InvariantError(f"exit code {result.exit_code()}")
        for report in FORMATS:
            if not render(report, result, ReportOptions()):
                raise InvariantError(f"empty {report} report")

    return engine_target


# ------------------------------------------------------------------------------------------ mutations


def mutate(data: bytes, rng: random.Random, pool: list[bytes]) -> bytes:
    """One to four random byte-level or YAML-aware edits of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(13)
        at = rng.randint(0, len(out))
        if op == 0 and out:  # flip a bit
            index = rng.randrange(len(out))
            out[index] ^= 1 << rng.randrange(8)
        elif op == 1 and out:  # set a byte
            out[rng.randrange(len(out))] = rng.randrange(256)
        elif op == 2:  # insert random bytes
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op == 3 and out:  # delete a range
            del out[at : at + rng.randint(1, 16)]
        elif op == 4 and out:  # duplicate a range
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 64)]
        elif op in (5, 6):  # insert a dictionary token
            out[at:at] = rng.choice(TOKENS)
        elif op == 7 and pool:  # splice with another input
            other = rng.choice(pool)
            cut = rng.randint(0, len(other))
            out = out[:at] + bytearray(other[cut:])
        elif op == 8:  # replace one line by a line from another input
            lines = bytes(out).split(b"\n")
            donor = rng.choice(pool or [data]).split(b"\n")
            lines[rng.randrange(len(lines))] = rng.choice(donor)
            out = bytearray(b"\n".join(lines))
        elif op == 9:  # re-indent a line
            lines = bytes(out).split(b"\n")
            index = rng.randrange(len(lines))
            lines[index] = b" " * rng.randint(0, 8) + lines[index].lstrip(b" ")
            out = bytearray(b"\n".join(lines))
        elif op == 10:  # truncate
            del out[at:]
        elif op == 11:  # repeat a token: deep nesting, long runs, many aliases
            token = rng.choice([b"[", b"{a: ", b"- ", b"*a, ", b"&a ", b"a", b"\n", b"  ", b"x: "])
            out[at:at] = token * rng.choice([2, 10, 63, 64, 65, 200, 5000])
        elif op == 12:  # swap two lines
            lines = bytes(out).split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            out = bytearray(b"\n".join(lines))
    return bytes(out[:MAX_LEN])


MAX_LEN = 1 << 16


def signature(raw: bytes) -> tuple[str, ...]:
    """A cheap novelty signal: the findings an input gives, numbers and quoted text stripped."""
    from validator import loader

    source = loader.load_bytes(raw, NAME)
    shapes = {f"{item.rule}:{_VARYING.sub('#', item.message)[:60]}" for item in source.findings}
    shapes.add(f"docs:{min(len(source.documents), 3)}")
    return tuple(sorted(shapes))


def failure_key(error: BaseException) -> str:
    """What makes two failures the same: the exception type and the innermost frame in validator."""
    if isinstance(error, InvariantError):
        return f"InvariantError: {error.kind[:100]}"
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if "/validator/" in frame.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(error).__name__} at {where}"


class Recorder:
    """Counts inputs and failures, keeps the first input of each distinct failure, writes stats as JSON."""

    def __init__(self, artifacts: Path, stats: Path | None = None) -> None:
        self.artifacts = artifacts
        self.stats = stats
        self.iterations = 0
        self.failures = 0
        self.distinct: dict[str, dict[str, Any]] = {}
        self.slowest = 0.0

    def run(self, target: Callable[[bytes], None], raw: bytes, timeout: float | None = None) -> bool:
        """Run one input; True when it passed."""
        self.iterations += 1
        start = time.perf_counter()
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            target(raw)
        except Exception as error:  # every failure is recorded and the run goes on
            if timeout:
                signal.setitimer(signal.ITIMER_REAL, 0)
            self.record(raw, error)
            return False
        finally:
            if timeout:
                signal.setitimer(signal.ITIMER_REAL, 0)
        self.slowest = max(self.slowest, time.perf_counter() - start)
        if self.stats is not None and self.iterations % 1000 == 0:
            self.dump()
        return True

    def record(self, raw: bytes, error: BaseException) -> None:
        self.failures += 1
        key = failure_key(error)
        entry = self.distinct.get(key)
        if entry is None:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            saved = self.artifacts / f"failure-{hashlib.sha1(raw).hexdigest()[:12]}.yaml"
            saved.write_bytes(raw)
            entry = self.distinct[key] = {
                "count": 0, "input": str(saved), "error": f"{type(error).__name__}: {error}"[:400],
            }
            print(f"NEW FAILURE {key}: {entry['error']} (input saved to {saved})", file=sys.stderr, flush=True)
        entry["count"] += 1
        if self.stats is not None:
            self.dump()

    def summary(self) -> dict[str, Any]:
        return {
            "iterations": self.iterations,
            "failures": self.failures,
            "distinct_failures": self.distinct,
            "slowest_input_seconds": round(self.slowest, 3),
        }

    def dump(self) -> None:
        assert self.stats is not None
        partial = self.stats.with_suffix(".tmp")
        partial.write_text(json.dumps(self.summary()), encoding="utf-8")
        partial.replace(self.stats)


def _alarm(signum: int, frame: Any) -> None:
    raise Hang("input took longer than the --timeout")


def run_mutate(args: argparse.Namespace, corpus: list[bytes], deadline: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mailcfg-fuzz-") as workdir:
        return _mutate_loop(args, corpus, deadline, make_target(args.target, Path(workdir)))


def _mutate_loop(
    args: argparse.Namespace, corpus: list[bytes], deadline: float, target: Callable[[bytes], None]
) -> dict[str, Any]:
    rng = random.Random(args.seed)
    recorder = Recorder(Path(args.artifacts))
    signal.signal(signal.SIGALRM, _alarm)
    pool = list(corpus)
    seen: set[tuple[str, ...]] = set()
    started = last_report = time.monotonic()
    queue = list(corpus)  # every seed is run once as it is
    while time.monotonic() < deadline:
        raw = queue.pop() if queue else mutate(rng.choice(pool), rng, pool)
        if not recorder.run(target, raw, args.timeout) or len(pool) >= 5000 or not raw:
            continue
        shape = signature(raw)
        if shape not in seen:
            seen.add(shape)
            pool.append(raw)
        now = time.monotonic()
        if now - last_report >= 30:
            last_report = now
            print(f"#{recorder.iterations} {recorder.iterations / (now - started):.0f}/s pool {len(pool)} "
                  f"failures {recorder.failures} ({len(recorder.distinct)} distinct)", file=sys.stderr, flush=True)
    return {**recorder.summary(), "pool": len(pool), "shapes": len(seen)}


# ------------------------------------------------------------------------------------------ atheris


def _dictionary(path: Path) -> None:
    def escape(token: bytes) -> str:
        return "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\x{b:02x}" for b in token)

    path.write_text("".join(f'"{escape(token)}"\n' for token in TOKENS), encoding="ascii")


def atheris_child(args: argparse.Namespace, libfuzzer: list[str]) -> None:
    """Runs inside the child: instrument mailcfg, then hand control to libFuzzer (which exits by itself)."""
    import atheris

    with atheris.instrument_imports(include=["validator", "yaml"]):
        import validator.engine
        import validator.reporters.json
        import validator.reporters.sarif
        import validator.reporters.text  # noqa: F401  (each module is instrumented as it is imported)

    target = make_target(args.target, Path(tempfile.mkdtemp(prefix="mailcfg-fuzz-")))
    recorder = Recorder(Path(args.artifacts), Path(args.stats))

    def one_input(raw: bytes) -> None:
        if not recorder.run(target, raw) and args.stop_on_failure:
            raise InvariantError("stopping at the first failure (--stop-on-failure); see the input above")

    atheris.Setup([sys.argv[0], *libfuzzer], one_input)
    atheris.Fuzz()


def run_atheris(args: argparse.Namespace, corpus: list[bytes], seconds: float) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="mailcfg-atheris-"))
    corpus_dir = Path(args.corpus) if args.corpus else scratch / "corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for raw in corpus:
        (corpus_dir / hashlib.sha1(raw).hexdigest()).write_bytes(raw)
    dictionary = scratch / "yaml.dict"
    _dictionary(dictionary)
    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    stats = scratch / "stats.json"
    libfuzzer = [
        f"-max_total_time={int(seconds)}",
        f"-timeout={int(max(1, args.timeout))}",
        f"-max_len={MAX_LEN}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-dict={dictionary}",
        f"-artifact_prefix={artifacts}/",
        f"-seed={args.seed or 0}",
        "-print_final_stats=1",
        str(corpus_dir),
    ]
    child = [sys.executable, __file__, "--atheris-child", "--target", args.target, "--artifacts", str(artifacts),
             "--stats", str(stats), *(["--stop-on-failure"] if args.stop_on_failure else []), "--", *libfuzzer]
    log_path = scratch / "libfuzzer.log"
    with log_path.open("w", encoding="utf-8") as log_file:
        run = subprocess.run(child, stdout=log_file, stderr=subprocess.STDOUT, check=False)
    log = log_path.read_text(encoding="utf-8", errors="replace")
    wanted = ("#", "Done", "stat::", "NEW FAILURE", "INFO: fuzzed")
    shown = [line for line in log.splitlines() if line.startswith(wanted)]
    sys.stderr.write("\n".join(shown[-40:]) + "\n")
    recorded = json.loads(stats.read_text(encoding="utf-8")) if stats.exists() else {}
    executed = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    coverage = re.findall(r"cov: (\d+) ft: (\d+)", log)
    # libFuzzer exits 0 when the time is up; anything else (a hang, memory, --stop-on-failure) is a failure.
    ended_badly = run.returncode != 0
    if ended_badly:
        sys.stderr.write(log[-6000:])
    return {
        "iterations": int(executed.group(1)) if executed else recorded.get("iterations", 0),
        "failures": recorded.get("failures", 0) + (1 if ended_badly and not recorded.get("failures") else 0),
        "distinct_failures": recorded.get("distinct_failures", {}),
        "libfuzzer_exit": run.returncode,
        "coverage": {"cov": int(coverage[-1][0]), "ft": int(coverage[-1][1])} if coverage else None,
        "corpus": len(list(corpus_dir.iterdir())),
        "log": str(log_path),
    }


# ------------------------------------------------------------------------------------------ main


def seed_corpus(extra: list[str]) -> list[bytes]:
    corpus = list(SEEDS)
    candidates = [ROOT / "accounts.example.yaml", *(ROOT / "tests" / "fixtures").rglob("*.y*ml")]
    candidates += [Path(item) for item in extra]
    for path in candidates:
        if path.is_dir():
            candidates.extend(child for child in path.iterdir() if child.is_file())
        elif path.is_file() and path.stat().st_size <= MAX_LEN:
            corpus.append(path.read_bytes())
    return corpus


def replay(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="mailcfg-fuzz-") as workdir:
        return _replay(args, make_target(args.target, Path(workdir)))


def _replay(args: argparse.Namespace, target: Callable[[bytes], None]) -> int:
    failed = 0
    for name in args.replay:
        raw = Path(name).read_bytes()
        try:
            target(raw)
        except Exception:
            failed += 1
            print(f"{name}: FAILS", file=sys.stderr)
            traceback.print_exc()
        else:
            print(f"{name}: ok", file=sys.stderr)
    print(json.dumps({"replayed": len(args.replay), "failures": failed}))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["auto", "atheris", "mutate"], default="auto")
    parser.add_argument("--target", choices=["loader", "engine"], default="loader")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float)
    budget.add_argument("--seconds", type=float)
    parser.add_argument("--seed", type=int, help="random seed (mutate) / libFuzzer -seed")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds one input may take (default 5)")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="memory cap (default 2048)")
    parser.add_argument("--corpus", help="atheris: keep the evolving corpus in this directory")
    parser.add_argument("--artifacts", default=str(Path(tempfile.gettempdir()) / "mailcfg-fuzz-artifacts"))
    parser.add_argument("--replay", nargs="+", metavar="FILE", help="run these inputs once and report")
    parser.add_argument("--stop-on-failure", action="store_true",
                        help="atheris: stop at the first failure (default: record each distinct one and go on)")
    parser.add_argument("--atheris-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    parser.add_argument("inputs", nargs="*", help="extra seed files or directories (after --: libFuzzer flags)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    if args.atheris_child:
        atheris_child(args, args.inputs)
        return 0
    if args.replay:
        return replay(args)
    seconds = args.seconds if args.seconds is not None else 60 * (args.minutes if args.minutes is not None else 1)
    engine_name = args.engine
    if engine_name == "auto":
        try:
            import atheris  # noqa: F401
        except ImportError:
            engine_name = "mutate"
        else:
            engine_name = "atheris"
    corpus = seed_corpus(args.inputs)
    limit = args.rss_limit_mb << 20
    if engine_name == "mutate":
        resource.setrlimit(resource.RLIMIT_AS, (limit + (1 << 30), resource.getrlimit(resource.RLIMIT_AS)[1]))
    print(f"fuzzing {args.target} with {engine_name} for {seconds:.0f} s; artifacts in {args.artifacts}",
          file=sys.stderr)
    start = time.monotonic()
    if engine_name == "atheris":
        stats = run_atheris(args, corpus, seconds)
    else:
        stats = run_mutate(args, corpus, start + seconds)
    summary = {"engine": engine_name, "target": args.target, "seconds": round(time.monotonic() - start, 1), **stats}
    summary["per_second"] = round(summary["iterations"] / max(summary["seconds"], 1e-9))
    print(json.dumps(summary))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
