"""setup.sh installs every Debian package the code asks for by name, and a missing command is
one line naming its package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from hubimages.core.tools import require
from hubimages.errors import HubImagesError

REPO = Path(__file__).resolve().parents[2]
# Installed by `invoke engine` when no engine answers (a machine may use another engine).
NOT_BY_SETUP = {"docker.io"}


def packages_the_code_names() -> set[str]:
    """Second arguments of require(...) and the values of ensure_debian_tools({...})."""
    found: set[str] = set()
    for path in (REPO / "hubimages").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "require" and len(node.args) == 2:
                package = node.args[1]
                if isinstance(package, ast.Constant) and isinstance(package.value, str):
                    found.add(package.value)
            if node.func.id == "ensure_debian_tools" and isinstance(node.args[0], ast.Dict):
                found |= {str(v.value) for v in node.args[0].values if isinstance(v, ast.Constant)}
            if node.func.id == "apt_install" and isinstance(node.args[0], ast.List):
                found |= {str(v.value) for v in node.args[0].elts if isinstance(v, ast.Constant)}
    return found


def test_setup_installs_every_package_the_code_asks_for() -> None:
    installed = set(re.findall(r"need\+=\(([\w.+-]+)\)", (REPO / "setup.sh").read_text()))
    wanted = packages_the_code_names()
    assert {"npm", "chromium", "git", "mmdebstrap"} <= wanted  # the scan sees them
    assert wanted - NOT_BY_SETUP <= installed


def test_a_missing_command_is_one_line_naming_its_package() -> None:
    with pytest.raises(HubImagesError) as missing:
        require("no-such-command-here", "no-such-package")
    assert str(missing.value) == (
        "no-such-command-here not found: install Debian's no-such-package "
        "(apt-get install no-such-package), or run ./setup.sh, which installs it"
    )
    assert require("sh", "dash").endswith("/sh")
