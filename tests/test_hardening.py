"""Hostile input of every kind: mailcfg refuses or handles it in bounded memory, never hangs or crashes.

Resource limits run in a child process under ``RLIMIT_AS`` (1 GiB) with a wall-clock timeout, so an
unguarded expansion fails the test instead of exhausting or hanging the test run; the child reports its
peak RSS (and its time, which is printed by benchmarks, never asserted: it depends on the machine's load).
Filesystem oddities that are not files (FIFOs, devices, /proc) are refused unread as MC004; unreadable
paths and unwritable outputs each give one clear line on stderr and exit code 2.
The tests in tests/rules/test_mc004_refused.py (9x9 alias bomb, 100,000-deep flow list, size limit) are not
repeated.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from builders import VALID, Cli

from validator import engine, loader

ROOT = Path(__file__).resolve().parent.parent
GIB = 1 << 30
CHILD_TIMEOUT = 60  # seconds: a child still running then has hung (or is far beyond the budget)

# The child: warm up (imports, schema compilation), then time one CLI run in-process and report.
_CHILD = textwrap.dedent(
    """\
    import json, resource, sys, time
    from validator.cli import main
    warm, path, report = sys.argv[1:4]
    extra = sys.argv[4:]
    main(["check", "--no-config", "--format", "json", "--output", report, warm])
    start = time.perf_counter()
    code = main(["check", "--no-config", "--format", "json", "--output", report, *extra, path])
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"code": code, "seconds": seconds, "rss": rss}))
    """
)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))


def run_capped(
    tmp_path: Path, path: Path, *extra: str, timeout: float = CHILD_TIMEOUT
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check ``path`` in a child capped at 1 GiB of address space: (measurements, JSON report)."""
    warm = tmp_path / "warm.yaml"
    warm.write_text(VALID, encoding="utf-8")
    report = tmp_path / "report.json"
    try:
        run = subprocess.run(
            [sys.executable, "-c", _CHILD, str(warm), str(path), str(report), *extra],
            capture_output=True, text=True, timeout=timeout, preexec_fn=_cap_memory, check=False, cwd=tmp_path,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"checking {path.name} did not finish within {timeout} s")
    assert run.returncode == 0, f"the child failed (memory cap 1 GiB?):\n{run.stderr[-3000:]}"
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    return measured, json.loads(report.read_text(encoding="utf-8"))


def assert_bounded(measured: dict[str, Any], what: str) -> None:
    # Memory only: time depends on the machine and its load, and is measured by benchmarks/check.py, never
    # asserted here (the child's timeout is a hang guard, far above any real run).
    assert measured["rss"] < 768 * (1 << 20), f"{what} peaked at {measured['rss'] >> 20} MiB"


def refused(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in report["findings"] if item["rule"] == "MC004"]


# ------------------------------------------------------------------------------------ resource limits


def test_billion_laughs_inside_an_account_is_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    # The classic shape: ten anchors of ten aliases each, nested in a mapping deep in an imap entry.
    lines = [VALID.rstrip("\n"), "    sent_folder:", '      lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        aliases = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"      lol{level}: &l{level} [{aliases}]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    measured, report = run_capped(tmp_path, path)
    assert measured["code"] == 1
    (item,) = refused(report)
    assert "alias" in item["message"]
    assert item["line"] > VALID.count("\n")  # at one of the aliases, not at the top of the file
    assert report["summary"]["accounts"] == 0
    assert_bounded(measured, "a billion-laughs alias bomb")


def test_one_big_anchor_aliased_many_times_is_refused(tmp_path: Path) -> None:
    # Not exponential but quadratic: 3,000 aliases of a 3,000-item list would be 9 million nodes.
    items = ", ".join(f"u{index}" for index in range(3000))
    lines = ["version: 1", "x:", f"  big: &big [{items}]"] + [f"  k{index}: *big" for index in range(3000)]
    path = tmp_path / "quadratic.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    measured, report = run_capped(tmp_path, path)
    assert measured["code"] == 1
    (item,) = refused(report)
    assert "alias" in item["message"]
    assert_bounded(measured, "a quadratic alias expansion")


def test_merge_key_bomb_is_refused(tmp_path: Path) -> None:
    # `<<` copies every key of the merged mapping: 2,000 merges of a 2,000-key mapping.
    keys = ", ".join(f"k{index}: {index}" for index in range(2000))
    lines = ["version: 1", "x:", f"  - &m {{{keys}}}"] + [f"  - {{<<: *m, id: e{index}}}" for index in range(2000)]
    path = tmp_path / "merges.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    measured, report = run_capped(tmp_path, path)
    assert measured["code"] == 1
    assert refused(report), report["findings"][:3]
    assert_bounded(measured, "a merge-key bomb")


DEEP = {
    "block sequences": "users:\n  " + "- " * 10_000 + "x\n",
    "flow sequences": "users: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "flow mappings": "users: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "mixed": "users:\n  - " + "{a: [" * 5_000 + "]}" * 5_000 + "\n",
}


@pytest.mark.parametrize("style", DEEP)
def test_ten_thousand_deep_nesting_is_refused_at_the_depth_limit(tmp_path: Path, style: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("version: 1\n" + DEEP[style], encoding="utf-8")
    measured, report = run_capped(tmp_path, path)
    assert measured["code"] == 1
    (item,) = report["findings"]
    assert item["rule"] == "MC004"
    assert "nesting deeper than 64 levels" in item["message"]
    assert item["line"] in (2, 3)
    assert_bounded(measured, f"10,000-deep {style}")


def test_two_thousand_deep_block_mappings_are_refused(tmp_path: Path) -> None:
    # Block mappings need one more column per level: 2,000 levels are 2 million spaces.
    body = "".join(" " * (level + 1) + f"k{level}:\n" for level in range(2000))
    path = tmp_path / "deep-mappings.yaml"
    path.write_text("version: 1\nusers:\n" + body, encoding="utf-8")
    measured, report = run_capped(tmp_path, path)
    assert measured["code"] == 1
    assert [item["rule"] for item in report["findings"]] == ["MC004"]
    # Level 1 is the root, level 2 the mapping at k0 (line 3): level 65, refused, starts at k63 (line 66).
    assert (report["findings"][0]["line"], report["findings"][0]["column"]) == (66, 65)
    assert_bounded(measured, "2,000-deep block mappings")


def test_hundred_megabyte_file_is_refused_with_the_limit_and_how_to_raise_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    try:
        with path.open("wb") as stream:
            stream.write(VALID.encode())
            stream.truncate(100 * loader.MiB)  # sparse: no 100 MB written to disk
        measured, report = run_capped(tmp_path, path)
        assert measured["code"] == 1
        (item,) = report["findings"]
        assert (item["rule"], item["line"], item["column"]) == ("MC004", 1, 1)
        assert "100.0 MiB, over the 32 MiB limit" in item["message"]
        assert "--max-file-size" in item["hint"]
        assert_bounded(measured, "a 100 MB file")
    finally:
        path.unlink(missing_ok=True)


def test_file_whose_size_lies_is_read_only_up_to_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # /proc files report size 0, and a file may grow between stat and read: the read itself is capped.
    path = tmp_path / "grows.yaml"
    path.write_bytes(VALID.encode() + b"#" * (3 * loader.MiB))
    real_stat = os.stat

    def lying_stat(target: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        status = real_stat(target, *args, **kwargs)
        if str(target) == str(path):
            return os.stat_result((status.st_mode, *status[1:6], 0, *status[7:]))
        return status

    monkeypatch.setattr(os, "stat", lying_stat)
    source = loader.load_file(str(path), "grows.yaml", loader.Limits(max_file_size=loader.MiB))
    assert [item.rule for item in source.findings] == ["MC004"]
    assert "--max-file-size" in (source.findings[0].hint or "")
    assert source.documents == []


def test_million_item_list_is_refused_or_handled_without_exhausting_memory(tmp_path: Path) -> None:
    path = tmp_path / "million.yaml"
    path.write_text("version: 1\nusers:\n" + "  - 1\n" * 1_000_000, encoding="utf-8")
    measured, report = run_capped(tmp_path, path, timeout=30)
    assert measured["code"] == 1
    assert report["findings"], "a list of numbers where users belong must not pass"
    assert_bounded(measured, "a 1,000,000-item list")


def test_five_thousand_invalid_entries_are_handled_without_exhausting_memory(tmp_path: Path) -> None:
    # Each entry that fails the fast path costs a jsonschema validation (about 0.1 ms here): 5,000 must
    # stay well inside the budget.
    path = tmp_path / "invalid.yaml"
    path.write_text("version: 1\nusers:\n" + "  - 1\n" * 5_000, encoding="utf-8")
    measured, report = run_capped(tmp_path, path)
    assert measured["code"] == 1
    assert report["summary"]["errors"] == 5_000
    assert_bounded(measured, "5,000 invalid entries")


# ------------------------------------------------------------------------------------------ filesystem


def run_cli_process(*args: str, cwd: Path, timeout: float = 20, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process with a hard timeout: a hang fails the test instead of stalling it."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "validator", "check", "--no-config", *args],
            capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, **kwargs,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"mailcfg check {' '.join(args)} hung (no exit within {timeout} s)")


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr that names the problem, no traceback."""
    assert code == 2, (code, out, err)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, f"not one line:\n{err}"
    for needle in needles:
        assert needle in err, (needle, err)
    assert out == ""


_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _PR_CAPBSET_DROP = 1, 2, 24


def _drop_file_capabilities() -> None:
    # Root reads any file whatever its mode (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH). Dropping both from
    # the bounding set before exec makes the child an ordinary reader, so chmod 000 denies it.
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            os._exit(99)


@pytest.fixture
def unreadable(tmp_path: Path) -> Path:
    folder = tmp_path / "accounts"
    folder.mkdir()
    (folder / "a.yaml").write_text(VALID, encoding="utf-8")
    locked = folder / "b.yaml"
    locked.write_text("version: 1\n", encoding="utf-8")
    locked.chmod(0)
    return locked


def test_precondition_the_capability_drop_makes_chmod_000_unreadable(unreadable: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", f"open({str(unreadable)!r}).read()"],
        capture_output=True, text=True, preexec_fn=_drop_file_capabilities, check=False,
    )
    assert run.returncode == 1
    assert "PermissionError" in run.stderr


@pytest.mark.parametrize("given", ["file", "directory"])
def test_unreadable_file_is_one_line_and_exit_2(unreadable: Path, given: str) -> None:
    target = unreadable if given == "file" else unreadable.parent
    run = run_cli_process(str(target), cwd=unreadable.parent, preexec_fn=_drop_file_capabilities)
    assert_one_line_error(run.returncode, run.stdout, run.stderr, "b.yaml")
    assert "ermission denied" in run.stderr or "not readable" in run.stderr


@pytest.mark.parametrize("given", ["direct", "symlink in a directory"])
def test_proc_self_mem_is_refused_unread(tmp_path: Path, given: str) -> None:
    # /proc/self/mem is a regular file that root may open (reading at offset 0 fails with EIO). Like all of
    # /proc it is now refused before it is opened: a located MC004, never its content.
    if given == "direct":
        target = "/proc/self/mem"
    else:
        (tmp_path / "mem.yaml").symlink_to("/proc/self/mem")
        target = str(tmp_path)
    run = run_cli_process(target, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "error[MC004]" in run.stdout
    assert "mem" in run.stdout
    assert "Traceback" not in run.stderr


def test_directory_symlink_loops_are_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "accounts"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.yaml").write_text(VALID, encoding="utf-8")
    (folder / "sub" / "up").symlink_to("..")
    (folder / "self").symlink_to(".")
    (folder / "ping").symlink_to("pong")
    (folder / "pong").symlink_to("ping")
    run = run_cli_process("--format", "json", str(folder), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["files"] == [str(folder / "sub" / "a.yaml")]


@pytest.mark.parametrize("given", ["direct", "in a directory"])
def test_yaml_named_symlink_loop_is_one_line_and_exit_2(tmp_path: Path, given: str) -> None:
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    target = tmp_path / "loop.yaml" if given == "direct" else tmp_path
    run = run_cli_process(str(target), cwd=tmp_path)
    assert_one_line_error(run.returncode, run.stdout, run.stderr, "loop.yaml")


@pytest.mark.parametrize("given", ["direct", "in a directory"])
@pytest.mark.parametrize("kind", ["fifo", "char device"])
def test_fifo_or_device_named_yaml_does_not_hang(tmp_path: Path, given: str, kind: str) -> None:
    special = tmp_path / "pipe.yaml"
    if kind == "fifo":
        os.mkfifo(special)  # opening it for reading would block until a writer comes: never
    else:
        special.symlink_to("/dev/zero")  # reading it never ends
    target = special if given == "direct" else tmp_path
    run = run_cli_process(str(target), cwd=tmp_path, timeout=30)  # the timeout is the hang guard
    # Refused unread, as a located finding (MC004), like every file that is not a regular file.
    assert run.returncode == 1, run.stdout + run.stderr
    assert "error[MC004]" in run.stdout, run.stdout
    assert "pipe.yaml" in run.stdout
    assert "Traceback" not in run.stderr


def test_dangling_symlink_in_a_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "deleted.yaml")
    run = run_cli_process(str(tmp_path), cwd=tmp_path)
    assert_one_line_error(run.returncode, run.stdout, run.stderr, "gone.yaml", "No such file")


def test_file_deleted_between_listing_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(VALID.replace("outgoing", "out2"), encoding="utf-8")
    listed = loader.discover

    def discover_then_delete(paths: Any) -> Any:
        found = listed(paths)
        assert len(found) == 2
        (tmp_path / "b.yaml").unlink()  # the race, made deterministic: listed, then gone before it is read
        return found

    monkeypatch.setattr(engine, "discover", discover_then_delete)
    code, out, err = cli("check", "--no-config", str(tmp_path))
    assert_one_line_error(code, out, err, "b.yaml", "No such file")


def test_directory_deleted_before_walking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    folder = tmp_path / "accounts"
    folder.mkdir()
    real_isdir = os.path.isdir

    def isdir_then_delete(path: Any) -> bool:
        answer = real_isdir(path)
        if answer and str(path) == str(folder):
            folder.rmdir()
        return answer

    monkeypatch.setattr(os.path, "isdir", isdir_then_delete)
    code, out, err = cli("check", "--no-config", str(folder))
    assert_one_line_error(code, out, err, "accounts")


def _make_tree(top: Path, depth: int) -> None:
    """``top/d/d/.../d/deep.yaml``, built through directory descriptors (no chdir, no long paths)."""
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        leaf = os.open("deep.yaml", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, VALID.encode())
        os.close(leaf)
    finally:
        os.close(fd)


def _remove_tree(top: Path, depth: int) -> None:
    # shutil.rmtree recurses once per level too; remove from the bottom up without recursion.
    fds = [os.open(top, os.O_RDONLY)]
    for _ in range(depth):
        fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
    os.unlink("deep.yaml", dir_fd=fds[-1])
    for index in range(depth, 0, -1):
        os.close(fds[index])
        os.rmdir("d", dir_fd=fds[index - 1])
    os.close(fds[0])


def test_very_deep_directory_tree_is_no_internal_error(tmp_path: Path) -> None:
    # 1,200 nested directories (2,400 characters of path, within PATH_MAX): deeper than Python's
    # default recursion limit, so a walk that recurses once per level fails with RecursionError.
    top = tmp_path / "tree"
    top.mkdir()
    _make_tree(top, 1200)
    try:
        run = run_cli_process("--format", "json", "tree", cwd=tmp_path)
    finally:
        _remove_tree(top, 1200)
    assert "internal error" not in run.stderr
    assert run.returncode == 0, run.stderr
    (found,) = json.loads(run.stdout)["files"]
    assert found.endswith("/d/deep.yaml")
    assert found.split("/").count("d") == 1200


@pytest.mark.parametrize("how", ["--output", "--format json:"])
@pytest.mark.parametrize("where", ["missing directory", "a directory", "under a file", "/dev/full"])
def test_unwritable_report_is_one_line_and_exit_2(tmp_path: Path, cli: Cli, how: str, where: str) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    target = {
        "missing directory": str(tmp_path / "no" / "such" / "report.json"),
        "a directory": str(tmp_path),
        "under a file": str(tmp_path / "plain" / "report.json"),
        "/dev/full": "/dev/full",  # every write fails with ENOSPC, even for root
    }[where]
    args = ["--format", "json", "--output", target] if how == "--output" else ["--format", f"json:{target}"]
    code, out, err = cli("check", "--no-config", *args, str(tmp_path / "a.yaml"))
    assert_one_line_error(code, out, err, target)


# -------------------------------------------------------------------------------------- --max-findings


@pytest.fixture
def ten_thousand(tmp_path: Path) -> Path:
    """10,000 users whose mapping repeats its `id` key: 10,000 MC002 errors and nothing else."""
    path = tmp_path / "dups.yaml"
    path.write_text("version: 1\nusers:\n" + "".join(f"  - {{id: u{i}, id: u{i}}}\n" for i in range(10_000)))
    return path


def test_text_report_folds_after_twenty_of_a_rule_and_counts_all(ten_thousand: Path, cli: Cli) -> None:
    code, out, err = cli("check", "--no-config", str(ten_thousand))
    assert code == 1
    assert err == ""
    heads = [line for line in out.splitlines() if line.startswith(str(ten_thousand))]
    assert len(heads) == 20
    assert all("error[MC002]" in line for line in heads)
    lines = out.rstrip("\n").splitlines()
    assert lines[-2] == "... 9,980 more MC002 findings not shown (--format json lists every finding)"
    assert lines[-1] == "mailcfg: 1 file, 0 accounts: 10000 errors, 0 warnings, 0 infos"


def test_json_lists_every_finding_without_max_findings(ten_thousand: Path, cli: Cli) -> None:
    code, out, _ = cli("check", "--no-config", "--format", "json", str(ten_thousand))
    report = json.loads(out)
    assert code == 1
    assert len(report["findings"]) == 10_000
    assert {item["rule"] for item in report["findings"]} == {"MC002"}
    assert report["summary"]["errors"] == 10_000


def test_max_findings_limits_the_report_but_not_the_summary(ten_thousand: Path, cli: Cli) -> None:
    code, out, _ = cli("check", "--no-config", "--format", "json", "--max-findings", "5", str(ten_thousand))
    report = json.loads(out)
    assert code == 1
    assert [(item["rule"], item["line"]) for item in report["findings"]] == [("MC002", line) for line in range(3, 8)]
    assert report["summary"]["errors"] == 10_000
    code, out, _ = cli("check", "--no-config", "--max-findings", "5", str(ten_thousand))
    assert code == 1
    assert len([line for line in out.splitlines() if "error[MC002]" in line]) == 5
    assert "... 9,995 more findings not reported (--max-findings)" in out
    assert out.rstrip("\n").splitlines()[-1] == "mailcfg: 1 file, 0 accounts: 10000 errors, 0 warnings, 0 infos"


@pytest.mark.parametrize("limit", ["0", "3"])
def test_exit_code_counts_findings_the_limit_hides(tmp_path: Path, cli: Cli, limit: str) -> None:
    # Four MC003 warnings sort first (plain ids like 0580 are read as strings, YAML 1.1); the only error,
    # an unknown key, comes last: the cut keeps warnings only, and the run must still fail.
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "version: 1\nusers:\n  - id: 0580\n  - id: 0581\n  - id: 0590\n  - id: 0591\n  - {id: e, nmae: typo}\n",
        encoding="utf-8",
    )
    code, out, _ = cli("check", "--no-config", "--format", "json", "--max-findings", limit, str(path))
    report = json.loads(out)
    assert [(item["rule"], item["severity"]) for item in report["findings"]] == [("MC003", "warning")] * int(limit)
    assert code == 1
    assert (report["summary"]["errors"], report["summary"]["warnings"]) == (1, 4)
    code, _, _ = cli("check", "--no-config", "--max-findings", limit, "--ignore", "MC102", str(path))
    assert code == 0  # only warnings remain, and they do not fail without --strict
    code, _, _ = cli("check", "--no-config", "--strict", "--max-findings", limit, "--ignore", "MC102", str(path))
    assert code == 1


# ------------------------------------------------------------------------------------------ fuzz smoke


def test_fuzz_entry_point_runs_briefly_and_finds_nothing() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "fuzz_loader.py"), "--engine", "mutate", "--seconds", "3", "--seed", "1"],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["iterations"] > 50
    assert summary["failures"] == 0
    assert summary["engine"] == "mutate"


def test_fuzz_invariants_catch_a_position_outside_the_file() -> None:
    # The fuzz harness's checker must be able to fail, or a fuzz run proves nothing.
    code = (
        "import sys; sys.path.insert(0, 'fuzz'); import fuzz_loader as f\n"
        "from validator.finding import Finding, Location, Severity\n"
        "bad = Finding('MC001', Severity.ERROR, 'x', Location('f', 3, 1))\n"
        "try:\n    f.check_findings([bad], b'one line')\nexcept f.InvariantError as e:\n    print('caught', e)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("caught")
