"""A rule without ``check`` says where it is emitted, and that stays true when the code moves.

Such a rule's docstring names its code as ``(`validator/module.py`, `function`, `Class.method`)``; a
module path starts a group and the names after it (up to the next path) are defined in that module. Every
named module must exist and hold the rule id as a string, and every named function, class, method or
module-level name must be defined in it.

The rule modules are found in validator/rules/ itself, not through the registry, so this test does not
depend on where the registry lives.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULE_FILES = sorted((ROOT / "validator" / "rules").glob("mc[0-9][0-9][0-9]_*.py"))
PATH = re.compile(r"validator/[\w/]+\.py")
GROUP = re.compile(r"\(([^()]*)\)")
TICKED = re.compile(r"`([^`]+)`")


def _module(file: Path) -> ModuleType:
    return importlib.import_module(f"validator.rules.{file.stem}")


CATALOGUE_ONLY = [file.stem for file in RULE_FILES if not hasattr(_module(file), "check")]


def _groups(doc: str) -> list[tuple[str, list[str]]]:
    """Each module path named in a parenthesis of ``doc``, with the names that follow it there."""
    groups: list[tuple[str, list[str]]] = []
    for inside in GROUP.findall(doc):
        ticked = TICKED.findall(inside)
        if not ticked or not PATH.fullmatch(ticked[0]):
            continue
        for token in ticked:
            if PATH.fullmatch(token):
                groups.append((token, []))
            else:
                groups[-1][1].append(token)
    return groups


def _defined(tree: ast.Module, name: str) -> bool:
    """Whether ``name`` (``function``, ``Class``, ``Class.method``, ``CONSTANT``) is defined at the top of ``tree``."""
    body: list[ast.stmt] = tree.body
    *outer, last = name.split(".")
    for part in outer:
        found = [node for node in body if isinstance(node, ast.ClassDef) and node.name == part]
        if not found:
            return False
        body = found[0].body
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == last:
            return True
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == last for target in targets):
            return True
    return False


def _strings(tree: ast.Module) -> set[str]:
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_some_rules_are_emitted_elsewhere() -> None:
    assert RULE_FILES
    assert CATALOGUE_ONLY  # the loader's MC001 at least


@pytest.mark.parametrize("name", CATALOGUE_ONLY)
def test_rule_without_check_names_the_code_that_emits_it(name: str) -> None:
    module = _module(ROOT / "validator" / "rules" / f"{name}.py")
    doc = module.__doc__ or ""
    groups = _groups(doc)
    assert groups, f"{module.ID}: name the module and function that emit it, e.g. (`validator/loader.py`, `load_bytes`)"
    for path, names in groups:
        file = ROOT / path
        assert file.is_file(), f"{module.ID}: {path} does not exist"
        tree = ast.parse(file.read_text(encoding="utf-8"))
        assert module.ID in _strings(tree), f"{module.ID}: {path} does not hold the string {module.ID!r}"
        for defined in names:
            assert _defined(tree, defined), f"{module.ID}: {path} defines no {defined}"


@pytest.mark.parametrize("file", RULE_FILES, ids=lambda file: file.stem)
def test_every_module_path_a_rule_names_exists(file: Path) -> None:
    for path in PATH.findall(_module(file).__doc__ or ""):
        assert (ROOT / path).is_file(), f"{file.stem}: {path} does not exist"
