"""The package import graph: imports flow from the edges to services to the core to db/settings, and no
two packages import each other (directly or around a loop).

Every `import voicebot.x…` counts, at module level or inside a function: a lazy import is still a
dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import voicebot

ROOT = Path(voicebot.__file__).parent

# Lower number = lower layer. A package may import its own layer's packages or lower ones.
LAYERS: dict[str, int] = {
    # the edges: how people and other programs reach the product
    "__main__": 4, "cli": 4, "api": 4, "web": 4, "runtime": 4, "bench": 4,
    # services: the product's use cases, shared by every edge
    "services": 3, "max": 3, "calls": 3, "campaigns": 3, "sla": 3, "importers": 3, "demo": 3,
    # the core: dialogue, language and sound; `asterisk` is wire protocol only (like a library)
    "dialogue": 2, "nlu": 2, "media": 2, "asr": 2, "tts": 2, "asterisk": 2,
    # the base everything stands on
    "db": 1, "settings": 1, "logs": 1, "values": 1, "rules": 1, "clock": 1, "retry": 1, "models_download": 1,
    "security": 1,
    "journal": 1, "metrics": 1, "health": 1,  # durable call records, metric objects, dependency probes
}  # fmt: skip

# Same-layer edges are fine but must go one way; these are the allowed directions among the edges.
EDGE_ORDER = {
    ("__main__", "cli"),
    ("cli", "runtime"),
    ("cli", "bench"),
    ("bench", "runtime"),  # benchmarks build what serve builds (bench burst: the inbound router)
    ("bench", "api"),
    ("runtime", "api"),
    ("api", "web"),
}


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "voicebot"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, dict[str, set[str]]]:
    """package → imported package → the files that import it."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in ROOT.rglob("*.py"):
        source = package_of(module_name(path))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module]
            else:
                continue
            for target in targets:
                if target.startswith("voicebot."):
                    imported = package_of(target)
                    if imported != source:
                        graph[source][imported].add(str(path.relative_to(ROOT)))
    return graph


def test_every_package_has_a_layer():
    packages = {package_of(module_name(p)) for p in ROOT.rglob("*.py")} - {"voicebot"}
    assert packages <= set(LAYERS), f"give these a layer: {sorted(packages - set(LAYERS))}"


def test_imports_flow_from_the_edges_down():
    wrong = [
        f"{source} → {imported} ({', '.join(sorted(files))})"
        for source, targets in import_graph().items()
        for imported, files in targets.items()
        if LAYERS[imported] > LAYERS[source]
        or (LAYERS[imported] == LAYERS[source] == 4 and (source, imported) not in EDGE_ORDER)
    ]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_package_cycle():
    graph = {source: set(targets) for source, targets in import_graph().items()}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == path[0]:
                cycles.append(" → ".join([*path, nxt]))
            elif nxt not in path and nxt > path[0]:  # each cycle once, from its smallest package
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, "package cycles:\n" + "\n".join(cycles)


def test_asterisk_is_wire_protocol_only():
    """asterisk/ is given its addresses and secrets by the composition root; it reads no settings."""
    assert "settings" not in import_graph().get("asterisk", {}), "asterisk/ must not read settings"
