"""The layout shows the pipeline: orgs → records → spreadsheets → tasks / lists → indicators → reports.

Every module under src/dangjian is parsed (not imported) and each of its imports, at the top or inside a function,
is checked: a stage imports only stages to its left (tasks and lists, side by side, not each other), and no module
imports another module's private (`_name`) names, neither `from m import _name` nor `m._name` after `import m`.
Modules outside the stages (text, web, api, audit, demo, packs, the CLI …) are free to import the stages; the stages
themselves are checked whatever they import.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "dangjian"

# spreadsheets sits right of records and left of tasks / lists: the 填报任务 progress workbook and the overdue list
# are written with its one cell neutraliser.
STAGES = {"orgs": 0, "records": 1, "spreadsheets": 2, "tasks": 3, "lists": 3, "indicators": 4, "reports": 5}


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def resolve(path: Path, node: ast.ImportFrom, src: Path = SRC) -> str:
    """The absolute module an ImportFrom names."""
    if not node.level:
        return node.module or ""
    base = module_name(path, src).split(".")
    if not is_package(path):
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def is_module(name: str, src: Path = SRC) -> bool:
    rel = Path(*name.split("."))
    return (src / rel).with_suffix(".py").is_file() or (src / rel / "__init__.py").is_file()


def stage_of(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) >= 2 and parts[0] == "dangjian" and parts[1] in STAGES:
        return parts[1]
    return None


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def imports(path: Path, src: Path = SRC) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names imported from it) for every import in the file."""
    out: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.lineno, resolve(path, node, src), [a.name for a in node.names]))
    return out


def layer_violations(path: Path, src: Path = SRC) -> list[str]:
    here = stage_of(module_name(path, src))
    if here is None:
        return []
    found = []
    for line, target, names in imports(path, src):
        # `from dangjian import tasks` names the stage in the imported name
        for name in [target] + [f"{target}.{n}" for n in names if target == "dangjian"]:
            there = stage_of(name)
            if there is not None and there != here and STAGES[there] >= STAGES[here]:
                found.append(f"{module_name(path, src)}:{line} imports {name} ({here} → {there})")
    return found


def private_violations(path: Path, src: Path = SRC) -> list[str]:
    me = module_name(path, src)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    aliases: dict[str, str] = {}  # local name → a dangjian module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("dangjian") and a.asname:
                    aliases[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom):
            target = resolve(path, node, src)
            if not target.startswith("dangjian"):
                continue
            for a in node.names:
                if private(a.name) and target != me:
                    found.append(f"{me}:{node.lineno} imports {a.name} from {target}")
                elif is_module(f"{target}.{a.name}", src):
                    aliases[a.asname or a.name] = f"{target}.{a.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and private(node.attr)
            and aliases[node.value.id] != me
        ):
            found.append(f"{me}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_the_stage_packages_exist():
    for stage in STAGES:
        assert (ROOT / stage / "__init__.py").is_file(), stage


def test_no_stage_imports_a_stage_to_its_right():
    found = [v for p in modules() for v in layer_violations(p)]
    assert found == []


def test_no_module_imports_another_modules_private_names():
    found = [v for p in modules() for v in private_violations(p)]
    assert found == []


def test_the_checks_see_what_they_look_for(tmp_path):
    """The checker itself, on a small tree of its own: a right-to-left import, a private import and a private
    attribute of an imported module are caught; a module's own private names and a left-pointing import are not."""
    records = tmp_path / "dangjian" / "records"
    records.mkdir(parents=True)
    for name in ("__init__.py", "services.py", "views.py"):
        (records / name).write_text("_x = 1\n", encoding="utf-8")
    (tmp_path / "dangjian" / "__init__.py").write_text("", encoding="utf-8")
    probe = records / "probe.py"
    probe.write_text(
        "from dangjian.tasks import collection\nfrom .services import _Locks\nfrom . import views\nviews._x\n"
        "from dangjian.orgs import access\n_mine = 1\nprint(_mine)\n",
        encoding="utf-8",
    )
    assert layer_violations(probe, tmp_path) == [
        "dangjian.records.probe:1 imports dangjian.tasks (records → tasks)"
    ]
    assert private_violations(probe, tmp_path) == [
        "dangjian.records.probe:2 imports _Locks from dangjian.records.services",
        "dangjian.records.probe:4 uses dangjian.records.views._x",
    ]
