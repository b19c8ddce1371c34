#!/usr/bin/env python3
"""Import cycles between the files of each crate: `.ci/file-cycles.py [repo]`.

A file imports another when it names a path into it (`use crate::a::b`, `super::x`,
`crate::a::{b, c}`, or a child module by name from a `mod.rs`); items of the crate root
itself do not count (see `imports`). Test code (from the first `#[cfg(test)]` on) is left
out: a test may reach anywhere. Prints each cycle (a strongly
connected set of more than one file) and exits 1 if there is any, so CI keeps the graph
acyclic (docs/ARCHITECTURE.md, "The parts").
"""

import os
import re
import sys

PATH = re.compile(r"\b(crate|super)((?:::\w+)+)")
GROUP = re.compile(r"\b(crate|super)((?:::\w+)*)::\{([^{}]*)\}")


def module_files(src):
    """Module path (a tuple) → file, for every `.rs` under `src`."""
    files = {}
    for folder, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, src)[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                files[tuple(parts)] = path
    return files


def imports(module, path, files):
    text = open(path, encoding="utf-8").read()
    text = text.split("#[cfg(test)]")[0]
    text = re.sub(r"//[^\n]*", "", text)
    is_folder = os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs")
    here = list(module) if is_folder else list(module[:-1])
    paths = []
    for found in GROUP.finditer(text):
        base = found.group(2).split("::")[1:]
        for item in found.group(3).split(","):
            item = item.split(" as ")[0].strip()
            if item:
                paths.append((found.group(1), base + ([] if item == "self" else item.split("::"))))
    paths += [(m.group(1), m.group(2).split("::")[1:]) for m in PATH.finditer(text)]
    if is_folder:
        for found in re.finditer(r"(?<![:\w])([a-z_]\w*)((?:::\w+)+)", text):
            if tuple(here + [found.group(1)]) in files:
                paths.append(("crate", here + [found.group(1)] + found.group(2).split("::")[1:]))
    targets = set()
    for kind, segments in paths:
        if kind == "crate":
            full = segments
        else:
            full, rest = list(here), list(segments)
            if not is_folder or kind == "super":
                full = full if not is_folder else full[:-1]
            while rest and rest[0] == "super":
                full, rest = full[:-1], rest[1:]
            full = full + rest
        # The longest prefix that is a file is the module imported. The crate root is not
        # one: it declares every module, so a module using one of its items (a constant,
        # `run`) would always close a circle, and says nothing about the modules' layering.
        for end in range(len(full), 0, -1):
            target = tuple(full[:end])
            if target in files:
                if target != module:
                    targets.add(target)
                break
    return targets


def cycles(graph):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for next_node in graph.get(node, ()):
            if next_node not in index:
                visit(next_node)
                low[node] = min(low[node], low[next_node])
            elif next_node in on_stack:
                low[node] = min(low[node], index[next_node])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    total = 0
    crates = os.path.join(root, "crates")
    for crate in sorted(os.listdir(crates)):
        src = os.path.join(crates, crate, "src")
        if not os.path.isdir(src):
            continue
        files = module_files(src)
        graph = {module: imports(module, path, files) for module, path in files.items()}
        for component in cycles(graph):
            total += 1
            names = sorted(os.path.relpath(files[m], root) for m in component)
            print("cycle: " + " <-> ".join(names))
    print(f"file cycles: {total}")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
