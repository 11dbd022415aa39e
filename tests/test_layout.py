"""The library's layout by study: studies import the shared layers, never another study; the shared layers
import no study; the import graph has no cycle; every rule file's rules have a script or say where their
output goes; the code cites docs/ in the repository, never a file outside it."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
STUDIES = {"cathode", "quak", "codae", "mimic", "search"}
# The one study built on another: the bump hunt (docs/search.md) scores events with CATHODE's estimators,
# so search may import cathode; nothing imports search.
STUDY_ON_STUDY = {("search", "cathode")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports():
    """hepad module -> the hepad modules it imports (at any depth of the file)."""
    graph = {}
    for path in sorted((SRC / "hepad").rglob("*.py")):
        name = _module_name(path)
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hepad"):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.startswith("hepad")}
        graph[name] = found
    return graph


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_studies_import_only_shared_layers_and_themselves():
    for module, imported in _imports().items():
        own = _package(module)
        for target in imported:
            other = _package(target)
            if other in STUDIES and other != own and (own, other) not in STUDY_ON_STUDY:
                raise AssertionError(f"{module} imports {target}: a study package is imported only by itself")


def test_import_graph_has_no_cycle():
    graph = _imports()
    # Resolve "from hepad.x import y" where y is a module of package x to the package's module itself.
    state = {}

    def visit(module, stack):
        state[module] = "open"
        for target in graph.get(module, ()):
            if target not in graph:
                continue
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*stack, module, target]))
            if target not in state:
                visit(target, [*stack, module])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [])


def test_rules_name_their_script_or_say_where_their_output_goes():
    rules_dir = ROOT / "workflow/rules"
    for path in sorted(rules_dir.glob("*.smk")):
        text = path.read_text()
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", text, re.M | re.S):
            name, body = match.groups()
            script = re.search(r'script\("(\w+)"\)', body)
            if script is None:
                continue  # copies and aggregates: no script
            assert (ROOT / "scripts" / f"{script.group(1)}.py").exists(), f"{path.name}: {name} has no script"
            if script.group(1) != name:
                assert '"""' in body, f"{path.name}: rule {name} runs {script.group(1)}.py but has no docstring"


def test_code_cites_docs_inside_the_repository():
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    for folder in ("src", "scripts", "workflow", "bench", "tests", "config"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".smk", ".md", ".yaml", ".rst") or path == Path(__file__):
                continue
            text = path.read_text(errors="replace")
            assert "REFERENCE.md" not in text, f"{path.relative_to(ROOT)} cites REFERENCE.md, outside the repository"
            for page in re.findall(r"docs/(\w+\.md)", text):
                assert page in pages, f"{path.relative_to(ROOT)} cites docs/{page}, which does not exist"
