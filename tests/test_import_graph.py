"""The package's import graph, read from the source with ast (imports inside functions included): no
cycle, imports inside functions only where listed below with their reason, and the layers of
docs/ARCHITECTURE.md (DESIGN.md section 2). Also the size rule of the services: no function of 40 lines
or more."""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mockup"

def in_the_factory(module: str, function: str) -> bool:
    """The factory's register_* functions wire the app together: they may import any part of it."""
    return module == "mockup" and function.startswith("register_")


# (module, function, imported module): the other imports allowed inside a function, each with its reason.
DEFERRED_IMPORTS = {
    ("mockup.engines", "_build", "mockup.engines.gemini"): "google-genai is heavy; only the Gemini engine needs it",
    ("mockup.engines", "_build", "mockup.engines.local"): "OpenCV and the imaging pipeline load only for the local engine",
    **{("mockup.jobs.celery_app", "_import_engines", module): "the engines load in a worker before it forks"
       for module in ("mockup.engines", "mockup.engines.gemini", "mockup.engines.local")},
    ("mockup.multiprocess_metrics", "process_dead", "prometheus_client"):
        "prometheus_client must first be imported after enable() chose the multiprocess mode",
    ("mockup.views.system", "_ping_redis", "redis"): "the Redis client is needed only when REDIS_URL is set",
}

# Layer rules (docs/ARCHITECTURE.md): a module matching the left may not import a module matching any
# prefix on the right.
FORBIDDEN = {
    "mockup.services": ("mockup.views", "mockup.api", "mockup.callers", "mockup.jobs.tasks", "mockup.jobs.runner",
                        "mockup.jobs.registry", "mockup.jobs.embedded", "mockup.jobs.celery_app",
                        "mockup.jobs.lifecycle", "mockup.jobs.figures"),
    "mockup.imaging": ("mockup.services", "mockup.views", "mockup.api", "mockup.jobs", "mockup.engines"),
    "mockup.engines": ("mockup.services", "mockup.views", "mockup.api", "mockup.jobs"),
    "mockup.jobs": ("mockup.views", "mockup.api"),
    "mockup.jobs.handoff": ("mockup.services", "mockup.engines", "mockup.imaging"),
    "mockup.jobs.lifecycle": ("mockup.services", "mockup.engines", "mockup.imaging"),
    "mockup.jobs.progress": ("mockup.services", "mockup.engines", "mockup.imaging"),
    "mockup.jobs.order": ("mockup.services", "mockup.engines", "mockup.imaging"),
    **{low: ("mockup.services", "mockup.views", "mockup.api", "mockup.jobs", "mockup.engines", "mockup.imaging",
             "mockup.callers")
       for low in ("mockup.models", "mockup.extensions", "mockup.storage", "mockup.errors", "mockup.telemetry")},
}
LONGEST_SERVICE_FUNCTION = 40


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute name of the module a `from ... import` reads from."""
    if not node.level:
        return node.module
    base = module.split(".")
    base = base if is_package(module) else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The modules an import statement loads: for `from X import y`, X.y when y is a module of its own,
    and X itself unless it is a package this module lives in (already loaded before this module runs)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    source = resolve(module, node)
    submodules = {f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in MODULES}
    names_from_source = len(submodules) < len(node.names)
    inside = module == source or module.startswith(source + ".")
    return submodules | ({source} if names_from_source or not inside else set())


def imports_of(module: str) -> list[tuple[str | None, str]]:
    """(enclosing function or None, imported module) for every import statement of the module."""
    tree = ast.parse(MODULES[module].read_text(), filename=str(MODULES[module]))
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((function, target) for target in imported(module, child))
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            visit(child, inner)

    visit(tree, None)
    return found


def graph() -> nx.DiGraph:
    edges = nx.DiGraph()
    edges.add_nodes_from(MODULES)
    for module in MODULES:
        for _, target in imports_of(module):
            if target in MODULES and target != module:
                edges.add_edge(module, target)
    return edges


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_the_graph_reads_relative_and_function_level_imports():
    """The reader itself: a `from . import x` of a module is that module, and imports inside functions count."""
    assert ("mockup.jobs.handoff", "mockup.models") in graph().edges
    assert "mockup.jobs.handoff" in {target for _, target in imports_of("mockup.jobs")}
    assert ("register_jobs", "mockup.jobs.embedded") in imports_of("mockup")


def test_the_package_has_no_import_cycle():
    cycles = [sorted(group) for group in nx.strongly_connected_components(graph()) if len(group) > 1]
    assert cycles == [], f"import cycles: {cycles}"


def test_imports_inside_functions_are_only_the_listed_ones():
    unlisted = sorted(
        (module, function, target)
        for module in MODULES
        for function, target in imports_of(module)
        if function is not None and not in_the_factory(module, function)
        and (module, function, target) not in DEFERRED_IMPORTS
    )
    assert unlisted == [], "imports inside functions (move them to the top, or list them with a reason)"


def test_every_listed_deferred_import_still_exists():
    present = {(module, function, target) for module in MODULES for function, target in imports_of(module)}
    assert sorted(set(DEFERRED_IMPORTS) - present) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    crossings = sorted(
        (module, target)
        for module, target in graph().edges
        if within(module, layer) and any(within(target, banned) for banned in FORBIDDEN[layer])
    )
    assert crossings == []


def test_no_service_function_reaches_forty_lines():
    long_ones = sorted(
        (f"{path.name}:{node.name}", node.end_lineno - node.lineno + 1)
        for path in (PACKAGE / "services").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 >= LONGEST_SERVICE_FUNCTION
    )
    assert long_ones == []
