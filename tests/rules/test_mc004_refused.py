"""MC004: input refused as unsafe or too large.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the loader
(validator/loader.py); validator/rules/mc004_refused.py documents it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from builders import SMTP_HEAD, VALID, Cli, insert_after, replace_line
from conftest import Check, assert_fires_once, only, rules_of, run_bytes, where

from validator import loader
from validator.loader import Limits

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    # the root mapping is level 1, the n-th '[' opens level n+1 at column 6+n: the 64th is refused
    pytest.param("MC004", "version: 1\nsmtp: " + "[" * 70 + "]" * 70 + "\n", 2, 70, id="MC004-depth"),
    pytest.param("MC004", "version: 1\nsmtp: !!python/object:os.system x\n", 2, 7, id="MC004-tag"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc004_file_over_the_size_limit(check: Check) -> None:
    result = check(SMTP_HEAD, limits=Limits(max_file_size=16))
    assert where(result, "MC004") == [("error", 1, 1)]
    assert only(result, "MC404") == []  # nothing of the refused file is checked


def test_mc004_alias_bomb(check: Check) -> None:
    # The rule's documented example, ten levels deep: 9**10 nodes from a few hundred bytes.
    lines = ["version: 1", 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for previous, name in zip("abcdefghi", "bcdefghij", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    result = check("\n".join(lines) + "\n")
    found = only(result, "MC004")
    assert len(found) == 1
    assert found[0].severity.value == "error"
    assert 3 <= found[0].line <= 11


def test_mc004_a_few_aliases_are_fine(check: Check) -> None:
    source = """\
        version: 1
        users:
          - id: anna
            name: &name Anna Muster
          - id: anna2
            name: *name
        """
    result = check(source)
    assert only(result, "MC004") == []
    assert result.files[0].documents[0].data["users"][1]["name"] == "Anna Muster"


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["version: 1", "users:", "  - &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_refused_by_the_loader() -> None:
    # The guard counts expanded nodes, so the refusal does not depend on the machine's speed; how long it
    # takes is measured by benchmarks, not asserted here.
    source = _alias_bomb()
    loaded = loader.load_bytes(source.encode(), "bomb.yaml")
    rules = [item.rule for item in loaded.findings]
    assert rules == ["MC004"], rules
    item = loaded.findings[0]
    assert "alias" in item.message
    assert 4 <= item.line <= 11  # at one of the aliases
    assert loaded.documents == []


def test_alias_bomb_full_run_is_refused_in_a_capped_child(tmp_path: Path) -> None:
    # In a child process with a memory cap and a hang guard: an unguarded expansion must fail this
    # test, not hang or exhaust the test run.
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(), encoding="utf-8")
    warm = tmp_path / "warm.yaml"
    warm.write_text(VALID, encoding="utf-8")
    code = textwrap.dedent(
        f"""\
        import json, resource, time
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = 3 << 30 if hard == resource.RLIM_INFINITY else min(hard, 3 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        from validator import engine
        engine.run(engine.CheckOptions(paths=({str(warm)!r},)))  # imports and caches outside the timing
        start = time.perf_counter()
        result = engine.run(engine.CheckOptions(paths=({str(path)!r},)))
        print(json.dumps({{"seconds": time.perf_counter() - start,
                          "rules": [f.rule for f in result.findings]}}))
        """
    )
    try:
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=10, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("checking a 9x9 alias bomb did not finish within 10 seconds")
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert "MC004" in report["rules"]


def test_ordinary_aliases_stay_within_the_budget(check: Check) -> None:
    source = VALID.replace("      contact: IT desk\n", "      contact: &desk IT desk\n", 1)
    source = source.replace("      contact: IT desk\n", "      contact: *desk\n")
    result = check(source)
    assert result.findings == ()
    assert result.files[0].documents[0].data["imap"][0]["credentials"]["contact"] == "IT desk"


def test_flow_nesting_over_the_limit(check: Check) -> None:
    depth = 70
    result = check("version: 1\nusers: " + "[" * depth + "]" * depth + "\n")
    # The root mapping is level 1, `users:`'s list level 2: the 64th `[` (column 8 + 63) is level 65.
    assert where(result, "MC004") == [("error", 2, 71)]
    assert "64" in only(result, "MC004")[0].message
    assert result.files[0].documents == []


def test_flow_nesting_at_the_limit_is_read(check: Check) -> None:
    depth = 63  # levels 2..64
    result = check("version: 1\nusers: " + "[" * depth + "]" * depth + "\n")
    assert only(result, "MC004") == []
    assert len(result.files[0].documents) == 1


def test_block_nesting_over_a_custom_limit(check: Check) -> None:
    # root 1, smtp list 2, entry 3, credentials 4, password mapping 5.
    assert check(VALID, limits=loader.Limits(max_depth=5)).findings == ()
    result = check(VALID, limits=loader.Limits(max_depth=4))
    assert where(result, "MC004") == [("error", 11, 17)]


def test_hundred_thousand_deep_flow_list_does_not_crash(tmp_path: Path) -> None:
    depth = 100_000
    path = tmp_path / "deep.yaml"
    path.write_text("version: 1\nusers: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "validator", "check", "--format", "json", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 1, run.stderr[-2000:]
    findings = json.loads(run.stdout)["findings"]
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [("MC004", 2, 71)]


def test_file_over_the_size_limit(check: Check) -> None:
    padding = "# " + "x" * 1000 + "\n"
    source = VALID + padding * 1600  # about 1.5 MiB
    result = check(source, limits=loader.Limits(max_file_size=loader.MiB))
    assert where(result, "MC004") == [("error", 1, 1)]
    (item,) = result.findings
    assert "1 MiB limit" in item.message
    assert item.hint is not None
    assert "--max-file-size" in item.hint
    assert result.files[0].documents == []


def test_file_exactly_at_the_size_limit_is_read(tmp_path: Path) -> None:
    limit = 4096
    raw = VALID.encode()
    raw += b"#" * (limit - len(raw) - 1) + b"\n"
    assert len(raw) == limit
    result = run_bytes(tmp_path, raw, limits=loader.Limits(max_file_size=limit))
    assert result.findings == ()


def test_size_limit_from_the_cli(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(VALID + ("#" * 1000 + "\n") * 1100, encoding="utf-8")
    code, out, _ = cli("check", "--format", "json", "--max-file-size", "1", str(path))
    assert code == 1
    findings = json.loads(out)["findings"]
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [("MC004", 1, 1)]
    assert "1 MiB" in findings[0]["message"]
    code, out, _ = cli("check", "--max-file-size", "2", str(path))
    assert code == 0, out


def test_unsupported_tag_on_a_scalar(check: Check) -> None:
    result = check(insert_after(5, "    name: !!python/object:os.system ls\n"))
    assert where(result, "MC004") == [("error", 6, 11)]
    assert "python/object:os.system" in only(result, "MC004")[0].message
    assert result.files[0].documents == []


def test_unsupported_tag_on_a_mapping(check: Check) -> None:
    result = check(replace_line(9, "    credentials: !!python/object:os.system"))
    assert where(result, "MC004") == [("error", 9, 18)]
    assert result.files[0].documents == []


def test_unsupported_tag_on_a_sequence(check: Check) -> None:
    result = check(replace_line(2, "users: !!python/object/apply:os.system"))
    assert where(result, "MC004") == [("error", 2, 8)]
    assert result.files[0].documents == []


def test_custom_tag_on_a_scalar(check: Check) -> None:
    result = check(replace_line(6, "    host: !vault smtp.example.com"))
    assert where(result, "MC004") == [("error", 6, 11)]


def test_a_recursive_alias_is_mc004() -> None:
    found = rules_of("version: 1\nsmtp: &s [*s]\n")
    assert found == [("MC004", "recursive alias: it refers to a list or mapping that contains it")]
