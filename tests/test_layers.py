"""The package's layers only look down: no module imports from a layer above its own.

From the bottom: shared errors, value checks, files and the run spec; datasets; models; metrics (which score
a model's samples); artifacts (grids, plots, interpolations a run draws); the trainer; config checks, run paths
and the sweep report; resuming; a job and scoring; the command line. Imports inside functions count as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gensweep"
LAYERS = [
    {"", "checks", "columns", "errors", "files", "placement", "spec"},
    {"data"},
    {"models"},
    {"metrics"},
    {"artifacts"},
    {"train", "loggers"},
    {"config", "paths", "report", "space"},
    {"resume"},
    {"job", "score", "start_checks"},
    {"cli", "__main__", "api"},
]


def layer(module: str) -> int:
    """Layer of a dotted module name under gensweep ("gensweep.train.loop" -> the trainer's)."""
    part = module.split(".")[1] if "." in module else ""
    for i, names in enumerate(LAYERS):
        if part in names:
            return i
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS")


def imports(source: str, package: str) -> set[str]:
    """gensweep modules a module's source imports, at its top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "gensweep"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.split(".")[0] != "gensweep":
                continue
            if base == "gensweep":  # `from gensweep import STARTED` or `from gensweep import job`
                found |= {
                    f"gensweep.{a.name}"
                    if (PACKAGE / f"{a.name}.py").is_file() or (PACKAGE / a.name).is_dir()
                    else "gensweep"
                    for a in node.names
                }
            else:
                found.add(base)
    return found


def upward_imports(sources: dict[str, str]) -> list[str]:
    """'importer -> imported' for each import of a module in a higher layer than its importer."""
    bad = []
    for module, source in sources.items():
        package = module if module.endswith("__init__") else module.rsplit(".", 1)[0]
        for target in sorted(imports(source, package.removesuffix(".__init__"))):
            if layer(target) > layer(module):
                bad.append(f"{module} -> {target}")
    return bad


def package_sources() -> dict[str, str]:
    sources = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        sources[".".join(parts)] = path.read_text()
    return sources


def test_no_module_imports_from_a_layer_above_it():
    sources = package_sources()
    assert len(sources) > 50 and "gensweep.train.loop" in sources
    assert upward_imports(sources) == []


def test_the_check_sees_imports_inside_functions_and_from_the_package_root():
    """The checker itself: an upward import at the top, one inside a function and one through `from gensweep
    import` are each reported; downward ones are not."""
    sources = {
        "gensweep.data.mnist": "from gensweep.files import atomic_write\nfrom gensweep.train.loop import Trainer\n",
        "gensweep.models.gan": "def f():\n    from gensweep.report.sweep import collect\n",
        "gensweep.metrics.fid": "from gensweep import job\nfrom gensweep import STARTED\n",
        "gensweep.cli": "import gensweep.job\nfrom gensweep.errors import ConfigError\n",
    }
    assert upward_imports(sources) == [
        "gensweep.data.mnist -> gensweep.train.loop",
        "gensweep.models.gan -> gensweep.report.sweep",
        "gensweep.metrics.fid -> gensweep.job",
    ]


def import_cycles(sources: dict[str, str]) -> list[list[str]]:
    """Each cycle of module imports (at the top or inside functions), as the modules on it."""
    graph = {}
    for module, source in sources.items():
        package = module if module.endswith("__init__") else module.rsplit(".", 1)[0]
        graph[module] = {t for t in imports(source, package.removesuffix(".__init__")) if t in sources and t != module}
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(path[path.index(target) :])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_cycle_within_the_package():
    """Modules of one layer may import each other, but never in a circle (report/ once did: sweep <-> html)."""
    assert import_cycles(package_sources()) == []
    # the checker sees a cycle through an import inside a function
    cycle = {
        "gensweep.report.a": "from gensweep.report.b import x\n",
        "gensweep.report.b": "def f():\n    import gensweep.report.a\n",
    }
    assert import_cycles(cycle) == [["gensweep.report.a", "gensweep.report.b"]]


def test_tools_and_benchmarks_import_only_the_public_api():
    """Scripts outside the package import gensweep.api only, so the package's insides can change freely."""
    root = PACKAGE.parents[1]
    scripts = sorted([*(root / "tools").glob("*.py"), *(root / "benchmarks").glob("*.py")])
    assert len(scripts) > 10
    wrong = [
        f"{path.relative_to(root)} -> {target}"
        for path in scripts
        for target in sorted(imports(path.read_text(), "tools"))
        if target != "gensweep.api"
    ]
    assert wrong == []
