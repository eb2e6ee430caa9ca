"""Every third-party package the code imports is declared in pyproject.toml.

An undeclared import works on a developer's machine only while something else happens to pull the
package in; the next release of that something breaks a fresh install. Imports inside
``try: ... except ImportError`` are optional by construction and are not counted.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Where runtime code lives: it may use only [project] dependencies and the optional extras users
#: install for a feature (postgres, export). Benchmarks and tests may use the dev extra too.
RUNTIME_DIRS = ("crawler", "storage", "migrations")
DEVELOPER_DIRS = ("benchmarks", "tests")


def _distribution_key(requirement: str) -> str:
    """``psycopg[binary]>=3.2`` -> ``psycopg``, normalised as PEP 503 names are."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(*, with_dev: bool) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra, extra_requirements in project.get("optional-dependencies", {}).items():
        if extra != "dev" or with_dev:
            requirements += extra_requirements
    return {_distribution_key(requirement) for requirement in requirements}


def _optional_import_nodes(tree: ast.AST) -> set[ast.AST]:
    """Import statements inside a ``try`` whose handlers catch ImportError."""
    optional: set[ast.AST] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = {ast.unparse(handler.type) for handler in node.handlers if handler.type is not None}
        if caught & {"ImportError", "ModuleNotFoundError", "(ImportError, ModuleNotFoundError)"}:
            optional.update(inner for statement in node.body for inner in ast.walk(statement))
    return optional


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    optional = _optional_import_nodes(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if node in optional:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def imports_by_file(folders: tuple[str, ...]) -> dict[Path, set[str]]:
    """Each file's top-level imports, parsed in a fresh interpreter: CPython 3.11's AST constructor
    can raise ``SystemError: AST constructor recursion depth mismatch`` (gh-106905) in a process
    where earlier tests left its recursion count off, which made this test fail only in full runs."""
    paths = [str(path) for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]
    result = subprocess.run(
        [sys.executable, __file__, *paths], capture_output=True, text=True, check=True, timeout=120
    )
    return {Path(path): set(names) for path, names in json.loads(result.stdout).items()}


def _is_local(name: str, path: Path) -> bool:
    """A package of this checkout, or a module beside the importer (tests and benchmarks do this)."""
    for folder in (ROOT, ROOT / "tests", path.parent):
        if (folder / name).is_dir() or (folder / f"{name}.py").is_file():
            return True
    return False


def undeclared_imports(folders: tuple[str, ...], declared: set[str]) -> dict[str, list[str]]:
    """Import name -> the files that import it, for third-party imports no declaration covers."""
    distributions = importlib.metadata.packages_distributions()
    missing: dict[str, list[str]] = {}
    for path, names in imports_by_file(folders).items():
        for name in names:
            if name in sys.stdlib_module_names or name == "__future__" or _is_local(name, path):
                continue
            providers = {_distribution_key(d) for d in distributions.get(name, [name])}
            if not providers & declared:
                missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return missing


@pytest.mark.parametrize(
    ("folders", "with_dev"),
    [(RUNTIME_DIRS, False), (DEVELOPER_DIRS, True)],
    ids=["runtime", "benchmarks-and-tests"],
)
def test_every_third_party_import_is_declared(folders: tuple[str, ...], with_dev: bool) -> None:
    missing = undeclared_imports(folders, _declared(with_dev=with_dev))
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"


def test_no_dependency_is_declared_without_an_import() -> None:
    """A runtime dependency no code imports is dead weight (courlan was); those that are pulled in
    for another package's sake (lxml_html_clean for justext) say why in pyproject.toml."""
    distributions = importlib.metadata.packages_distributions()
    imported = {
        _distribution_key(distribution)
        for names in imports_by_file(RUNTIME_DIRS).values()
        for name in names
        for distribution in distributions.get(name, [])
    }
    needed_by_others = {"lxml-html-clean"}
    assert _declared(with_dev=False) - {"psycopg", "pyarrow"} - imported - needed_by_others == set()


if __name__ == "__main__":  # the parsing half of imports_by_file, in its own interpreter
    print(json.dumps({path: sorted(_top_level_imports(Path(path))) for path in sys.argv[1:]}))
