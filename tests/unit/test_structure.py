"""The build tool's shape: layers import downwards only, nothing imports inside a function,
only the command line prints or exits, and functions and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "hubimages"
# Lower layers first; a module may import from its own layer or any layer below it.
LAYERS = [
    "core",
    "model",
    "services",
    "deps",
    "builder",
    "verify",
    "publish",
    "ci",
    "bench",
    "e2e",
    "cli",
]
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 300


def modules() -> dict[str, ast.Module]:
    return {
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(
            ".__init__"
        ): ast.parse(p.read_text())
        for p in sorted(PACKAGE.rglob("*.py"))
    }


MODULES = modules()


def layer(module: str) -> int:
    """hubimages.errors and the package itself sit below every layer."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


def imports(tree: ast.AST) -> list[tuple[str, int]]:
    """Every hubimages module a module imports (`from pkg import module` names the module)."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            found += [
                (f"{node.module}.{a.name}", node.lineno)
                for a in node.names
                if f"{node.module}.{a.name}" in MODULES
            ]
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
    return [(name, line) for name, line in found if name.startswith("hubimages")]


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_imports_point_downwards() -> None:
    upwards = [
        f"{module}:{line} imports {name}"
        for module, tree in MODULES.items()
        for name, line in imports(tree)
        if layer(name) > layer(module)
    ]
    assert upwards == []


# Deferred on purpose, each for a measured reason: module -> (function, imported module).
DEFERRED_IMPORTS = {
    # jsonschema's import takes about 1 s, which every `invoke` command would pay.
    ("hubimages.publish.catalogue", "write_catalogue", "jsonschema"),
}


def test_no_import_inside_a_function() -> None:
    hidden = [
        f"{module}:{inner.lineno} in {node.name}()"
        for module, tree in MODULES.items()
        for node in functions(tree)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
        and (module, node.name, _imported(inner)) not in DEFERRED_IMPORTS
    ]
    assert hidden == []


def _imported(node: ast.Import | ast.ImportFrom) -> str:
    return node.module or "" if isinstance(node, ast.ImportFrom) else node.names[0].name


def test_functions_and_modules_stay_small() -> None:
    too_long = [
        f"{module}:{node.lineno} {node.name}"
        for module, tree in MODULES.items()
        for node in functions(tree)
        if (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert too_long == []
    too_big = [
        module
        for module, tree in MODULES.items()
        if max((getattr(n, "end_lineno", 0) or 0 for n in ast.walk(tree)), default=0)
        > MAX_MODULE_LINES
    ]
    assert too_big == []


def test_only_the_command_line_prints_or_exits() -> None:
    found = []
    for module, tree in MODULES.items():
        if layer(module) == LAYERS.index("cli"):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("print", "exit")
            ):
                found.append(f"{module}:{node.lineno} {node.func.id}()")
            if isinstance(node, ast.Name) and node.id == "SystemExit":
                found.append(f"{module}:{node.lineno} SystemExit")
    assert found == []


def test_no_import_cycle() -> None:
    edges = {
        m: {n for n, _ in imports(tree) if n in MODULES and n != m} for m, tree in MODULES.items()
    }
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in done:
            return
        assert module not in trail, " -> ".join([*trail, module])
        for target in edges[module]:
            visit(target, [*trail, module])
        done.add(module)

    for module in MODULES:
        visit(module, [])


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    tree = ast.parse("from hubimages.cli import report\n")
    assert layer("hubimages.builder.image") < layer(imports(tree)[0][0])
    assert ("hubimages.cli.report", 1) in imports(tree)
