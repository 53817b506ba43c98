"""The shape of the code base: the rule registry matches the rule files, every rule has a firing test and every
static rule its test file in tests/rules/, the modules under validator/ import each other without a cycle, and
importing the loader loads no rule."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import SPEC_SEVERITY

from validator.registry import RULES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "validator"
TESTS = ROOT / "tests"
RULE_TESTS = TESTS / "rules"
RULE_FILE = re.compile(r"mc(\d{3})_\w+\Z")
RULE_ID = re.compile(r"\bMC\d{3}\b")


def rule_modules() -> dict[str, ModuleType]:
    """Every ``validator/rules/mc*.py`` module, by file name (without ``.py``)."""
    names = sorted(path.stem for path in (PACKAGE / "rules").glob("mc*.py"))
    return {name: importlib.import_module(f"validator.rules.{name}") for name in names}


# ------------------------------------------------------------------------------------------------ the registry


def test_the_rule_files_are_exactly_the_registered_rules() -> None:
    modules = rule_modules()
    assert all(RULE_FILE.match(name) for name in modules), sorted(modules)
    ids = sorted(getattr(module, "ID", name) for name, module in modules.items())
    assert ids == list(RULES), "a rules/mc*.py file is not registered, or the registry lists a rule twice"
    assert len(set(ids)) == len(ids), ids


@pytest.mark.parametrize("name", sorted(rule_modules()))
def test_a_rule_module_is_the_registered_rule_of_its_file_name(name: str) -> None:
    module = rule_modules()[name]
    match = RULE_FILE.match(name)
    assert match is not None
    rule = RULES[f"MC{match[1]}"]  # mc104_value.py is MC104
    assert getattr(module, "ID", None) == rule.id
    assert (rule.severity, rule.title) == (getattr(module, "SEVERITY", None), getattr(module, "TITLE", None))
    assert rule.doc == inspect.cleandoc(module.__doc__ or "")
    assert rule.doc, f"{name}: the docstring is the rule's documentation"


@pytest.mark.parametrize("name", sorted(rule_modules()))
def test_a_rule_module_defines_check_exactly_when_it_is_registered_as_checked(name: str) -> None:
    """No check silently never runs: a misnamed ``chek``, a ``check`` in a module the registry lists as
    catalogue-only, or a checked rule without ``check``. A rule module's only public function is ``check``;
    helpers are private (``_name``) or live in ``validator/rules/_common.py`` (see validator/registry.py)."""
    module = rule_modules()[name]
    functions = {
        function_name
        for function_name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not function_name.startswith("_")
    }
    rule = RULES[getattr(module, "ID", "")]
    if rule.check is None:
        assert functions == set(), f"{name} is registered without a check but defines {sorted(functions)}"
    else:
        assert functions == {"check"}, f"{name} is registered as checked and defines {sorted(functions)}"
        assert rule.check is getattr(module, "check", None)


def test_registry_has_every_rule_of_the_spec_table_at_its_default_severity() -> None:
    # rules added after the table (new ids) may exist; none of the table may be missing or changed
    assert {rule: RULES[rule].severity.value for rule in SPEC_SEVERITY if rule in RULES} == SPEC_SEVERITY


# ------------------------------------------------------------------------------------ every rule has a firing test

# Test modules of the reporters build findings by hand: a rule id asserted there is no rule that fired.
BUILT_BY_HAND = re.compile(r"test_report_\w+\.py\Z")


def static_rules() -> list[str]:
    """The rules a check finds without contacting a server (MC0xx-MC4xx): each has its test file in tests/rules/."""
    return [rule for rule in RULES if rule < "MC5"]


def rule_test_files() -> dict[str, Path]:
    """``tests/rules/test_mcNNN_name.py`` of every rule module, by rule id (whether the file exists or not)."""
    return {f"MC{name[2:5]}": RULE_TESTS / f"test_{name}.py" for name in rule_modules()}


def rule_test_modules() -> dict[str, ModuleType]:
    """The test module of each static rule that has its file in tests/rules/, by rule id."""
    sys.path[:0] = [str(TESTS), str(RULE_TESTS)]
    try:
        files = rule_test_files()
        return {rule: importlib.import_module(files[rule].stem) for rule in static_rules() if files[rule].is_file()}
    finally:
        del sys.path[:2]


def table(rule: str, name: str) -> list[str]:
    """The rule ids of the rows of table ``name`` (``FIRES``, ``PASSES``) in the test file of ``rule``."""
    module = rule_test_modules().get(rule)
    return [param.values[0] for param in getattr(module, name, ())]


def fires_tables() -> set[str]:
    """The rule ids of the ``FIRES`` tables (in the test files of the loader, schema and semantic rules): each row
    runs a check and expects exactly one finding of its rule at a given place."""
    return {row for rule in static_rules() for row in table(rule, "FIRES")}


def asserted_ids(source: str) -> set[str]:
    """Rule ids a test module asserts were found: named in a string (or f-string part) of an ``assert``
    statement's condition, or looked up with ``.findings(rule="MC…")`` (``(finding,) = run.findings(rule=…)``
    expects exactly one). Assertions that a rule is absent (``not in``, ``!=``, ``is not``, ``not …``) and the
    assert message do not count."""
    found: set[str] = set()
    stack: list[ast.AST] = [ast.parse(source)]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Assert):
            if not _negative(node.test):
                found.update(_ids_in(node.test))
                stack.append(node.test)
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "findings":
            found.update(item for keyword in node.keywords if keyword.arg == "rule" for item in _ids_in(keyword.value))
        stack.extend(ast.iter_child_nodes(node))
    return found


def _negative(test: ast.expr) -> bool:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    return isinstance(test, ast.Compare) and any(isinstance(op, (ast.NotIn, ast.NotEq, ast.IsNot)) for op in test.ops)


def _ids_in(node: ast.AST) -> Iterator[str]:
    for item in ast.walk(node):
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            yield from RULE_ID.findall(item.value)


def covered_ids() -> dict[str, set[str]]:
    """Each rule id with firing tests, and where they are."""
    covered: dict[str, set[str]] = {rule: {"a FIRES table"} for rule in fires_tables()}
    for path in sorted(TESTS.rglob("test_*.py")):
        if path.name == Path(__file__).name or BUILT_BY_HAND.match(path.name):
            continue
        live = path.parent.name == "live"
        for rule in asserted_ids(path.read_text(encoding="utf-8")):
            # A live rule fires against a server: only the live tests count for MC5xx.
            if live or not rule.startswith("MC5"):
                covered.setdefault(rule, set()).add(str(path.relative_to(TESTS)))
    return covered


def test_every_rule_has_a_firing_test() -> None:
    covered = covered_ids()
    missing = [rule for rule in RULES if rule not in covered]
    assert missing == [], f"rules without a firing test: {missing}"


# ------------------------------------------------------------------------------- one test file per static rule


def test_every_static_rule_has_its_test_file_in_tests_rules() -> None:
    """yamllint's layout: the tests of ``validator/rules/mc403_role_address.py`` are all in
    ``tests/rules/test_mc403_role_address.py``. The live rules (MC5xx) are tested against servers in tests/live/."""
    files = rule_test_files()
    missing = [str(files[rule].relative_to(ROOT)) for rule in static_rules() if not files[rule].is_file()]
    assert missing == [], f"static rules without their test file: {missing}"
    strays = sorted(path.name for path in RULE_TESTS.glob("test_*.py") if path not in files.values())
    assert strays == [], f"tests/rules/ files named for no rule module: {strays}"


def test_a_rule_test_file_tests_its_own_rule() -> None:
    """Each file's FIRES and PASSES rows are of its rule, and each file asserts its rule found."""
    for rule, module in rule_test_modules().items():
        assert set(table(rule, "FIRES")) <= {rule}, module.__file__
        assert set(table(rule, "PASSES")) <= {rule}, module.__file__
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert rule in set(table(rule, "FIRES")) | asserted_ids(source), f"{module.__file__} never finds {rule}"


def test_every_loader_and_schema_rule_has_a_firing_case() -> None:
    covered = fires_tables()
    assert {rule for rule in covered if rule < "MC2"} == {rule for rule in SPEC_SEVERITY if rule < "MC2"}


def test_every_semantic_rule_has_firing_and_passing_cases() -> None:
    # the semantic rules of docs/reference.md's rules table, all of them registered with their default severity
    semantic = {rule: severity for rule, severity in SPEC_SEVERITY.items() if rule >= "MC2"}
    assert {rule: RULES[rule].severity.value for rule in semantic} == semantic
    assert {rule for rule in semantic if table(rule, "FIRES")} == set(semantic)
    assert {rule for rule in semantic if table(rule, "PASSES")} == set(semantic)


def test_the_firing_test_search_counts_only_what_was_asserted_found() -> None:
    source = textwrap.dedent(
        '''
        """MC901 in a docstring."""
        # MC902 in a comment
        def test_it(run, out, finding):
            assert "MC903" not in out
            assert finding.rule != "MC904", "MC905 in a message"
            assert not run.findings(rule="MC906")
            hint = "MC907 outside an assert"
            assert (finding.rule, finding.line) == ("MC101", 3)
            assert f"error[MC102] {hint}" in out
            (one,) = run.findings(rule="MC103")
        '''
    )
    assert asserted_ids(source) == {"MC101", "MC102", "MC103"}


# ------------------------------------------------------------------------------------------------ import cycles


def module_names() -> dict[str, Path]:
    """Every module under validator/ by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_at_import_time(source: str) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run, or that a type checker follows, when the module is imported: at module
    level, in classes and in ``if``/``try``/``with`` blocks, ``if TYPE_CHECKING:`` included (a cycle of types
    is a cycle of the design). Imports inside a function are left out: they run when called, lazy by design
    (the registry imports the rule modules that way, and the loader asks the registry that way)."""
    stack: list[ast.AST] = [ast.parse(source)]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, is_package: bool, source: str, known: Iterable[str]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports (the deepest known module of each import).

    ``import a.b`` runs package ``a`` first; that edge is left out: a package that imports its own submodules
    (``validator/live/__init__.py``) would otherwise be a cycle with every one of them."""
    known = set(known)
    package = name if is_package else name.rpartition(".")[0]
    targets = []
    for node in imports_at_import_time(source):
        if isinstance(node, ast.Import):
            targets += [alias.name for alias in node.names]
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
        targets += [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    out = set()
    for target in targets:
        module = target
        while module and module not in known:
            module = module.rpartition(".")[0]
        if module and module != name:
            out.add(module)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {
        name: imported_modules(name, path.name == "__init__.py", path.read_text(encoding="utf-8"), modules)
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path (its first module repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle is not None:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle is not None:
                return cycle
    return None


def test_the_modules_of_validator_import_each_other_without_a_cycle() -> None:
    graph = import_graph()
    assert {"validator.registry", "validator.loader", "validator.rules.mc201_outgoing"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_the_import_graph_follows_type_checking_imports_and_skips_function_local_ones() -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        from validator import finding
        from .sibling import thing
        if TYPE_CHECKING:
            from validator.model import AccountSet
        class Holder:
            import validator.errors
        def lazy():
            from validator import schema
        """
    )
    known = ["validator", "validator.finding", "validator.model", "validator.errors", "validator.schema"]
    known.append("validator.sibling")
    assert imported_modules("validator.example", False, source, known) == {
        "validator.finding",
        "validator.sibling",
        "validator.model",
        "validator.errors",
    }
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


# ---------------------------------------------------------------------------------------- what the loader imports


def test_importing_the_loader_imports_no_rule_module() -> None:
    code = "import sys, validator.loader; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    modules = done.stdout.split()
    assert "validator.loader" in modules
    assert [name for name in modules if name.startswith("validator.rules.mc")] == []
