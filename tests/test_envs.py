"""Per-rule conda envs, checked statically: every rule that runs something has `conda:` with a pinned file
in envs/, and that env provides every package its script imports (directly or through the hepad library).

Imports are read with `ast`, not by importing: every import of the script itself (its functions run), and
the module-level imports (what runs when a module is loaded) of every hepad module and sibling script it
reaches, transitively. Imports inside library functions are left out: they are often optional back-ends
(nflows as one flow implementation) that the rule's env need not carry. A script that runs Snakemake itself (the `dag` rule) also needs what
the Snakefile and the rule files import.
"""

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# Import name -> the package names that provide it (conda-forge name, PyPI name).
PACKAGES = {
    "yaml": {"pyyaml"},
    "sklearn": {"scikit-learn"},
    "tables": {"pytables", "tables"},
    "torch": {"pytorch", "torch"},
    "pythia8": {"pythia8mc", "pythia8"},
    "PIL": {"pillow"},
    "skimage": {"scikit-image"},
    "snakemake": {"snakemake", "snakemake-minimal"},
    "energyflow": {"energyflow"},
}
# Modules that ship inside, or are hard requirements of, a package the env lists: no entry of their own.
PROVIDED_BY = {"mpl_toolkits": "matplotlib", "pkg_resources": "setuptools", "joblib": "scikit-learn",
               "threadpoolctl": "scikit-learn"}
# Imports that happen inside a library at run time: pandas loads PyTables for its HDF5 I/O.
RUNTIME_IMPORTS = {r"\bread_hdf\(|\.to_hdf\(|\bHDFStore\(": "tables"}
# Scripts whose job is to run Snakemake on this workflow (they need what the Snakefile imports).
RUNS_WORKFLOW = {"dag"}


# --- the rules --------------------------------------------------------------------------------------

def _rule_blocks():
    """(file, rule name, body) of every rule in the Snakefile and workflow/rules/*.smk."""
    blocks = []
    for path in [ROOT / "Snakefile", *sorted((ROOT / "workflow/rules").glob("*.smk"))]:
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"^(?:rule|checkpoint) (\w+):", text, re.M)]
        for i, (start, name) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            body = text[start:end]
            # The rule ends where the next top-level statement starts.
            tail = re.search(r"^\S", body.split("\n", 1)[1], re.M)
            if tail:
                body = body[: len(body.split("\n", 1)[0]) + 1 + tail.start()]
            blocks.append((path.relative_to(ROOT), name, body))
    return blocks


RULES = _rule_blocks()
ACTING = [(f, n, b) for f, n, b in RULES if re.search(r"^\s+(shell|script|run|notebook|wrapper):", b, re.M)]


def _conda(body):
    match = re.search(r"^\s+conda:\s*\n\s+[\"']([^\"']+)[\"']", body, re.M)
    return match.group(1) if match else None


def _script(body):
    match = re.search(r"script\(\s*[\"'](\w+)[\"']\s*\)", body)
    return match.group(1) if match else None


SCRIPTED = [(f, n, b) for f, n, b in ACTING if _script(b)]


def _env_path(rule_file, conda):
    return (ROOT / rule_file).parent.joinpath(conda).resolve()


def _load_env(path):
    env = yaml.safe_load(path.read_text())
    conda, pip = [], []
    for dep in env.get("dependencies", []):
        if isinstance(dep, dict):
            pip += dep.get("pip", [])
        else:
            conda.append(dep)
    return conda, pip


def _name(spec):
    return re.split(r"[=<>!~ \[]", spec, maxsplit=1)[0].strip().lower()


# --- imports ----------------------------------------------------------------------------------------

def _hepad_module_file(dotted):
    if dotted.startswith("scripts."):
        path = ROOT / "scripts" / f"{dotted.split('.', 1)[1]}.py"
        return path if path.is_file() else None
    base = SRC.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _import_nodes(tree, inside_functions):
    """Import statements of a module: all of them, or only those that run when it is loaded."""
    if inside_functions:
        yield from (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
        return
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def _imports_of(path, package=None, inside_functions=False):
    """(top-level names of third-party imports, dotted hepad modules imported) of one Python file.
    Sibling scripts (scripts/<name>.py) count as hepad-like modules: "scripts.<name>"."""
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    external, hepad = set(), set()
    external |= {module for pattern, module in RUNTIME_IMPORTS.items() if re.search(pattern, source)}

    def add(module):
        top = module.split(".")[0]
        if top == "hepad":
            parts = module.split(".")
            # Loading hepad.a.b runs hepad/__init__, hepad/a/__init__ too.
            hepad.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        elif (ROOT / "scripts" / f"{top}.py").is_file():
            hepad.add(f"scripts.{top}")
        elif top not in sys.stdlib_module_names and top not in ("_bootstrap", "__future__"):
            external.add(top)

    for node in _import_nodes(tree, inside_functions):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative import inside hepad
                base = (package or "").split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            add(module)
            for alias in node.names:  # `from hepad.data import prepared`: a module, not a name
                if module.startswith("hepad") and _hepad_module_file(f"{module}.{alias.name}"):
                    add(f"{module}.{alias.name}")
    return external, hepad


def _imports_transitive(path):
    """Third-party top-level modules imported by a script and every hepad module it reaches."""
    external, todo = _imports_of(path, inside_functions=True)
    todo, seen = set(todo), set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        file = _hepad_module_file(module)
        if file is None:
            continue
        package = module if file.name == "__init__.py" else module.rsplit(".", 1)[0]
        ext, more = _imports_of(file, package)
        external |= ext
        todo |= more - seen
    return external


def _workflow_imports():
    """Imports of the Snakefile and the rule files (import lines; .smk files are not plain Python)."""
    external = {"snakemake"}
    for path in [ROOT / "Snakefile", *(ROOT / "workflow/rules").glob("*.smk")]:
        lines = [line for line in path.read_text().splitlines() if re.match(r"(import|from) \w", line)]
        tmp_external, hepad = _imports_of_source("\n".join(lines))
        external |= tmp_external
        for module in hepad:
            file = _hepad_module_file(module)
            if file:
                external |= _imports_transitive(file)
    return external


def _imports_of_source(source):
    tmp = Path(__import__("tempfile").mkdtemp()) / "snippet.py"
    tmp.write_text(source)
    return _imports_of(tmp)


def _provides(import_name, conda, pip):
    wanted = {n.lower() for n in PACKAGES.get(import_name, {import_name})}
    wanted |= {w.replace("_", "-") for w in wanted}
    return bool(wanted & ({_name(d) for d in conda} | {_name(d) for d in pip}))


# --- tests ------------------------------------------------------------------------------------------

def test_rules_found():
    names = {name for _, name, _ in ACTING}
    assert {"prepare", "plot_data_overview", "dag", "run_config"} <= names, names


@pytest.mark.parametrize("rule_file,rule,body", ACTING, ids=[n for _, n, _ in ACTING])
def test_rule_has_pinned_conda_env(rule_file, rule, body):
    conda = _conda(body)
    assert conda, f"rule {rule} ({rule_file}) has no conda: directive"
    path = _env_path(rule_file, conda)
    assert path.parent == ROOT / "envs", f"rule {rule}: env {conda} is not in envs/"
    assert path.is_file(), f"rule {rule}: {path} does not exist"
    deps, pip = _load_env(path)
    assert deps, f"{path.name} lists no dependencies"
    for dep in deps:
        if _name(dep) == "pip":
            continue
        assert re.fullmatch(r"[\w.-]+=[\w.*-]+", dep.replace(" ", "")), f"{path.name}: {dep!r} is not pinned (name=version)"
    for dep in pip:
        assert re.fullmatch(r"[\w.\[\]-]+==[\w.+-]+", dep.replace(" ", "")), f"{path.name}: pip {dep!r} is not pinned (==)"
    assert pip == [] or "pip" in {_name(d) for d in deps}, f"{path.name} has pip packages but no pip"


@pytest.mark.parametrize("rule_file,rule,body", SCRIPTED, ids=[n for _, n, _ in SCRIPTED])
def test_env_provides_what_the_script_imports(rule_file, rule, body):
    name, conda = _script(body), _conda(body)
    assert conda, f"rule {rule} has no conda: directive"
    script = ROOT / "scripts" / f"{name}.py"
    assert script.is_file(), f"rule {rule}: {script} does not exist"
    needed = _imports_transitive(script)
    if name in RUNS_WORKFLOW:
        needed |= _workflow_imports()
    deps, pip = _load_env(_env_path(rule_file, conda))
    missing = sorted(PROVIDED_BY.get(m, m) for m in needed if not _provides(PROVIDED_BY.get(m, m), deps, pip))
    assert not missing, (f"rule {rule}: scripts/{name}.py needs {missing} (imports, through hepad too), "
                         f"which {conda} does not list")


def test_import_scan_follows_hepad(tmp_path):
    """The scan itself: a script importing hepad.cathode.prepare needs what that module imports."""
    script = tmp_path / "s.py"
    script.write_text("import json\nimport _bootstrap\nfrom hepad.cathode.prepare import cathode_features\n")
    needed = _imports_transitive(script)
    assert {"numpy", "pandas"} <= needed and "json" not in needed and "_bootstrap" not in needed
    script.write_text("import _bootstrap\nfrom hepad.events.formats import read_lhco_features\n")
    assert "tables" in _imports_transitive(script)  # pandas.read_hdf needs PyTables
    assert _provides("yaml", ["pyyaml=6.0.3"], []) and not _provides("yaml", ["numpy=2.4.6"], [])
    assert _provides("torch", [], ["torch==2.13.0"])
