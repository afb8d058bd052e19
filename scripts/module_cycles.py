#!/usr/bin/env python3
"""Fails when a crate's modules import each other in a circle.

Usage: scripts/module_cycles.py SRC_DIR [SRC_DIR ...]   (each the `src/` of one crate)

Every file under SRC_DIR is a module (`a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` and
`main.rs` are the crate root, which is left out: it only declares modules). A module depends on
another when its code names it — `crate::x::y`, `super::y`, `self::y` in a `use` or in an
expression — resolved to the longest module path that exists. A parent's `mod child;` is not a
dependency. Two graphs are checked: the modules themselves, and the top-level rooms (`ledger`,
`usecases`, …), where an arrow between two rooms means some module of one names the other.
Each cycle found is printed with the files that close it; exit 1 if any.
"""

import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)
COMMENT = re.compile(r"//[^\n]*")


def module_of(path: Path, src: Path) -> tuple:
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def resolve(anchor: str, rest: list, here: tuple, is_dir_module: bool, modules: set):
    if anchor == "crate":
        base = ()
    elif anchor == "self":
        base = here
    else:  # super
        base = here[:-1]
    names = list(rest)
    while names and names[0] == "super":
        base = base[:-1]
        names = names[1:]
    candidate = base + tuple(names)
    while candidate and candidate not in modules:
        candidate = candidate[:-1]
    return candidate or None


def paths_in(text: str):
    """(anchor, [names]) for every module path the code names, `use` groups expanded."""
    text = COMMENT.sub("", text)
    for m in USE_GROUP.finditer(text):
        prefix = [n for n in m.group(2).split("::") if n]
        for item in re.split(r",", m.group(3)):
            item = item.strip().split(" as ")[0].strip()
            names = [n for n in item.replace("{", " ").replace("}", " ").split("::") if n.strip()]
            if names and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", names[0].strip()):
                yield m.group(1), prefix + [n.strip() for n in names if n.strip()]
    for m in PATH.finditer(text):
        yield m.group(1), [n for n in m.group(2).split("::") if n]


def graph(src: Path):
    files = {module_of(p, src): p for p in src.rglob("*.rs")}
    modules = set(files)
    edges = {}
    for module, path in files.items():
        if module == ():
            continue
        text = path.read_text(encoding="utf-8")
        # Tests inside a module may reach anywhere; they are not part of the structure.
        text = text.split("#[cfg(test)]")[0]
        # A bare `child::…` inside a module names its own child module.
        for child in (m for m in modules if len(m) == len(module) + 1 and m[:-1] == module):
            if re.search(r"(?<![:\w])" + re.escape(child[-1]) + r"::", COMMENT.sub("", text)):
                edges.setdefault(module, set()).add(child)
        for anchor, names in paths_in(text):
            target = resolve(anchor, names, module, path.name == "mod.rs", modules)
            if target and target != module and not _is_ancestor(module, target):
                edges.setdefault(module, set()).add(target)
            elif target and _is_ancestor(module, target) and target != ():
                # A child naming an item its parent module defines is a real dependency.
                edges.setdefault(module, set()).add(target)
    return files, edges


def _is_ancestor(module: tuple, other: tuple) -> bool:
    return len(other) < len(module) and module[: len(other)] == other


def cycles(edges: dict):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def name(module: tuple) -> str:
    return "::".join(module) or "crate"


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    failed = False
    for arg in sys.argv[1:]:
        src = Path(arg)
        files, edges = graph(src)
        rooms = {}
        for a, targets in edges.items():
            for b in targets:
                if a and b and a[0] != b[0]:
                    rooms.setdefault((a[0],), set()).add((b[0],))
        for label, g in (("modules", edges), ("rooms", rooms)):
            found = cycles(g)
            for comp in found:
                failed = True
                print(f"{src}: cycle among {label}: " + " ↔ ".join(name(m) for m in comp))
                members = set(comp)
                for a in comp:
                    for b in sorted(g.get(a, ())):
                        if b in members:
                            print(f"    {name(a)} → {name(b)}")
            count = sum(len(t) for t in g.values())
            print(f"{src}: {len(g)} {label} with arrows, {count} arrows, {len(found)} cycles")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
