"""Every module of the project sits in a layer of the import contract (pyproject.toml,
[tool.importlinter]; ADR 0020), so lint-imports holds all of it: a new module that is in no
layer fails here until it is given one. Only the packages whose parts sit in different layers
(their ``__init__`` modules, which hold no code) are in none."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
SPLIT_PACKAGES = {
    "backend",
    "backend.alerts",
    "backend.photos",
    "backend.service_requests",
    "workorders",
    "workorders.api",
}


def test_every_module_is_in_a_layer() -> None:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    layers = [
        name.strip().strip("()") for layer in contract["layers"] for name in re.split("[|:]", layer)
    ]
    graph = grimp.build_graph(*config["root_packages"])
    outside = sorted(
        module
        for module in graph.modules
        if module not in SPLIT_PACKAGES
        and not any(module == layer or module.startswith(layer + ".") for layer in layers)
    )
    assert outside == []
