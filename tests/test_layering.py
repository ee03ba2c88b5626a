"""The imports between the five folders run one way (docs/architecture.md):

    core  <-  tools  <-  tasks  <-  policies
                ^                      |
                +------  agent  <------+

``tools`` may import only ``core``; ``tasks`` may import ``tools`` and ``core``; ``agent`` may import
``tools`` and ``core``; ``policies`` may import all of them. Every ``import`` counts: at module level, inside
functions (lazy), under ``TYPE_CHECKING``, and ``importlib.import_module("...")`` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# folder -> the package it is installed as (pyproject.toml's package-dir)
FOLDERS = {"core": "vidagent", "tools": "vidagent.tools", "tasks": "vidagent.tasks", "agent": "vidagent.agent",
           "policies": "vidagent.policies"}
SUBPACKAGES = {"tools", "tasks", "agent", "policies"}  # vidagent.<name>; everything else under vidagent is core
# layer -> the layers its modules may import (its own included)
ALLOWED = {
    "core": {"core"},
    "tools": {"core", "tools"},
    "tasks": {"core", "tools", "tasks"},
    "agent": {"core", "tools", "agent"},
    "policies": {"core", "tools", "tasks", "agent", "policies"},
}


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name, or None outside vidagent."""
    parts = module.split(".")
    if parts[0] != "vidagent":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else "core"


def module_name(folder: str, path: Path) -> str:
    relative = path.relative_to(REPO / folder).with_suffix("")
    parts = [p for p in relative.parts if p != "__init__"]
    return ".".join([FOLDERS[folder], *parts])


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, dotted name) of every module the code imports, wherever the import statement is."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            if base == "vidagent":  # `from vidagent import tasks` imports the subpackage
                found += [(node.lineno, f"vidagent.{alias.name}" if alias.name in SUBPACKAGES else base)
                          for alias in node.names]
            else:
                found.append((node.lineno, base))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__"):
                found.append((node.lineno, node.args[0].value))
    return found


def violations_in(source: str, layer: str, module: str, where: str, is_package: bool = False) -> list[str]:
    out = []
    for line, name in imported_modules(ast.parse(source), module, is_package):
        target = layer_of(name)
        if target is not None and target not in ALLOWED[layer]:
            out.append(f"{where}:{line}: {layer} imports {name} ({target} is downstream of {layer})")
    return out


def source_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


def test_every_import_follows_the_arrows():
    violations = []
    for folder in FOLDERS:
        files = source_files(folder)
        assert files, f"no modules under {folder}/"
        for path in files:
            violations += violations_in(path.read_text(encoding="utf-8"), folder, module_name(folder, path),
                                        str(path.relative_to(REPO)), is_package=path.name == "__init__.py")
    assert not violations, "imports against the arrows (see docs/architecture.md):\n" + "\n".join(violations)


@pytest.mark.parametrize(("layer", "source", "line"), [
    ("tools", "import numpy\n\ndef f():\n    from vidagent.tasks.world import config\n", 4),  # lazy
    ("tools", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import vidagent.tasks.world.truth\n", 3),
    ("tools", "from vidagent import tasks\n", 1),
    ("agent", "import importlib\nimportlib.import_module('vidagent.policies.cli')\n", 2),
    ("agent", "from vidagent.tasks.oracle import Program\n", 1),
    ("core", "from vidagent.tools.video import VideoRef\n", 1),
    ("tasks", "def f():\n    from vidagent.agent.graph import build_graph\n", 2),
    ("tasks", "def f():\n    from ..policies import cli\n", 2),  # relative, from vidagent.tasks.x
])
def test_the_check_names_the_file_and_line_of_a_wrong_import(layer: str, source: str, line: int):
    (found,) = violations_in(source, layer, f"{FOLDERS[layer]}.x", "some/file.py")
    assert found.startswith(f"some/file.py:{line}: {layer} imports vidagent.")


def test_imports_along_the_arrows_pass():
    assert not violations_in("from vidagent.errors import ConfigError\nimport vidagent\n", "tools", "vidagent.tools.x",
                             "f.py")
    assert not violations_in("from vidagent.tools.video import VideoRef\nfrom vidagent.tasks import questions\n",
                             "tasks", "vidagent.tasks.x", "f.py")
    assert not violations_in("from vidagent.agent.graph import build_graph\nfrom vidagent.tasks.oracle import Program\n",
                             "policies", "vidagent.policies.x", "f.py")
