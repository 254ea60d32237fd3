#!/usr/bin/env python3
"""Cycles among the top-level modules of each crate given as an argument.

    scripts/check_cycles.py crates/adatt-analysis crates/adatt-bench ...

A crate's top-level modules are the `mod X;` its root (src/lib.rs, else src/main.rs) declares;
module X is the file src/X.rs or src/X/mod.rs and every file under src/X/. Module A depends on
module B when one of A's files names B by a path: `use crate::B::…`, `crate::B::…` in code, or
`super::…` / `self::…` that lead to B from where they are written (inline `mod tests { … }`
blocks counted). A name the root re-exports from B (`pub use B::Name;`, or `pub use B::*` with
B defining Name) counts as B's. Comments, strings and `$crate::` paths in macros are skipped.

The root itself is not a node: it declares and re-exports every module, so counting it would
put each module that uses a root item (an error type, say) on a cycle with it.

Prints every cycle (a strongly connected group of modules, with one reference per dependency as
`file:line`) and exits 1 if there is one, 0 if there is none, 2 on a usage error.
"""

import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def blank(text):
    """`text` with its non-newline characters replaced by spaces."""
    return re.sub(r"[^\n]", " ", text)


def strip_comments_and_strings(src):
    """`src` with comments, string and char literals blanked out, lines kept in place."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, j = 0, i
            while j < n:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                    if depth == 0:
                        break
                else:
                    j += 1
        elif (m := re.match(r'b?r(#*)"', src[i : i + 12])) and not (
            i > 0 and (src[i - 1].isalnum() or src[i - 1] == "_")
        ):
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
        elif src[i] == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j += 1
        elif m := re.match(r"'(\\.[^']*|[^\\'])'", src[i : i + 12]):
            j = i + len(m.group(0))
        else:
            out.append(src[i])
            i += 1
            continue
        out.append(blank(src[i:j]))
        i = j
    return "".join(out)


def expand_use_tree(tree):
    """The paths of a use tree with their aliases: `a::{b, c::{self, d as e}}` ->
    [([a, b], None), ([a, c], None), ([a, c, d], e)]."""
    tree = re.sub(r"\s+as\s+(" + IDENT + r")", r"@\1", tree)
    tree = re.sub(r"\s+", "", tree)

    def parse(s, prefix):
        paths, depth, start, parts = [], 0, 0, []
        for k, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(s[start:k])
                start = k + 1
        parts.append(s[start:])
        for part in filter(None, parts):
            if "{" in part:
                head, inner = part.split("{", 1)
                head_segs = [x for x in head.split("::") if x]
                paths += parse(inner[: inner.rindex("}")], prefix + head_segs)
            else:
                part, _, alias = part.partition("@")
                segs = [x for x in part.split("::") if x]
                segs = [] if segs == ["self"] else segs
                paths.append((prefix + segs, alias or None))
        return paths

    return parse(tree, [])


def module_at(stripped, base):
    """Per character offset of `stripped`, the module path there: `base` plus the inline
    `mod name { … }` blocks it is in. Returned as a function of the offset."""
    spans = []  # (start, end, name, nesting)
    depth, stack = 0, []
    pending = {m.end() - 1: m.group(1) for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", stripped)}
    for k, ch in enumerate(stripped):
        if ch == "{":
            depth += 1
            if k in pending:
                stack.append((k, depth, pending[k]))
        elif ch == "}":
            if stack and stack[-1][1] == depth:
                start, _, name = stack.pop()
                spans.append((start, k, name, len(stack)))
            depth -= 1

    def at(offset):
        inner = sorted((nest, name) for start, end, name, nest in spans if start < offset < end)
        return base + [name for _, name in inner]

    return at


class Crate:
    def __init__(self, crate_dir):
        src = os.path.join(crate_dir, "src")
        self.root = next(
            (os.path.join(src, f) for f in ("lib.rs", "main.rs") if os.path.isfile(os.path.join(src, f))),
            None,
        )
        if self.root is None:
            raise SystemExit(f"check_cycles: {crate_dir}: no src/lib.rs or src/main.rs")
        self.name = os.path.basename(os.path.normpath(crate_dir))
        root_text = strip_comments_and_strings(open(self.root, encoding="utf-8").read())
        self.modules = re.findall(r"\bmod\s+(" + IDENT + r")\s*;", root_text)
        self.files = {}  # path -> module path of the file
        for m in self.modules:
            flat = os.path.join(src, m + ".rs")
            if os.path.isfile(flat):
                self.files[flat] = [m]
            folder = os.path.join(src, m)
            for dirpath, _, names in os.walk(folder):
                for f in sorted(names):
                    if not f.endswith(".rs"):
                        continue
                    rel = os.path.relpath(os.path.join(dirpath, f), folder)[: -len(".rs")].split(os.sep)
                    if rel[-1] == "mod":
                        rel = rel[:-1]
                    self.files[os.path.join(dirpath, f)] = [m] + rel
        self.reexports, self.glob_reexports = {}, []
        for use in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", root_text):
            for path, alias in expand_use_tree(use.group(1)):
                if path and path[0] in ("crate", "self"):
                    path = path[1:]
                if len(path) >= 2 and path[0] in self.modules:
                    if path[-1] == "*":
                        self.glob_reexports.append(path[0])
                    else:
                        self.reexports[alias or path[-1]] = path[0]

    def owner_of_root_name(self, name):
        """The module a name used as `crate::name` belongs to, or None for the root's own."""
        if name in self.modules:
            return name
        if name in self.reexports:
            return self.reexports[name]
        for m in self.glob_reexports:
            for f, mpath in self.files.items():
                if mpath[0] != m:
                    continue
                text = strip_comments_and_strings(open(f, encoding="utf-8").read())
                kinds = r"(?:fn|struct|enum|const|static|type|trait|mod|union)"
                if re.search(r"\bpub\s+" + kinds + r"\s+" + re.escape(name) + r"\b", text):
                    return m
        return None

    def references(self):
        """(from module, to module, file, line, text) for every reference between modules."""
        for f, base in sorted(self.files.items()):
            raw = open(f, encoding="utf-8").read()
            text = strip_comments_and_strings(raw)
            at = module_at(text, base)
            found = []
            for use in re.finditer(r"\buse\s+([^;]+);", text):
                for path, _ in expand_use_tree(use.group(1)):
                    found.append((use.start(), path))
            path_re = r"(?<![\w$])(?:crate|super|self)(?:\s*::\s*(?:" + IDENT + r"|\*))+"
            for m in re.finditer(path_re, text):
                found.append((m.start(), re.sub(r"\s+", "", m.group(0)).split("::")))
            for offset, path in found:
                target = self.resolve(path, at(offset))
                if target is not None and target != base[0]:
                    line = text.count("\n", 0, offset) + 1
                    yield base[0], target, f, line, raw.splitlines()[line - 1].strip()

    def resolve(self, path, here):
        """The top-level module `path`, written in module `here`, leads to (None: the root's
        own items, another crate, or nothing nameable)."""
        if not path or path[0] not in ("crate", "super", "self"):
            return None
        if path[0] == "crate":
            at, rest = [], path[1:]
        else:
            at, rest = list(here), list(path)
            while rest and rest[0] in ("super", "self"):
                if rest[0] == "super":
                    if not at:
                        return None
                    at.pop()
                rest.pop(0)
        full = at + rest
        if not full or full[0] == "*":
            return None
        if at:
            return full[0]
        return self.owner_of_root_name(full[0])


def cycles(edges):
    """Strongly connected groups of more than one node (Tarjan), each sorted."""
    nodes = sorted({a for a, _ in edges} | {b for _, b in edges})
    succ = {n: sorted({b for a, b in edges if a == n}) for n in nodes}
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in nodes:
        if v not in index:
            visit(v)
    return sorted(out)


def main(args):
    if not args or any(a.startswith("-") for a in args):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    found = False
    for crate_dir in args:
        crate = Crate(crate_dir)
        first = {}
        for a, b, f, line, text in crate.references():
            first.setdefault((a, b), f"{f}:{line}: {text}")
        for group in cycles(set(first)):
            found = True
            print(f"{crate.name}: cycle among modules {', '.join(group)}")
            for (a, b), where in sorted(first.items()):
                if a in group and b in group:
                    print(f"  {a} -> {b}  ({where})")
    if not found:
        print(f"no module cycles in {len(args)} crate(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
