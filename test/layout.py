#!/usr/bin/env python3
"""Checks the source layout (prints TAP).

Run from the checkout after a build (the object files are read with nm):
    python3 test/layout.py [BUILD_DIR]
BUILD_DIR is where the objects are (default: the checkout).

The rules it checks:
  1. no .c or .h file under src/ is longer than 800 lines;
  2. every file under src/ starts with a comment that says what it owns;
  3. no source file or document points outside the repository (../shared);
  4. a header declares only what its own module defines: dir/name.h the
     functions and variables of dir/name.c; a header named after its folder
     (dir/dir.h) those of the files in that folder; any other header only
     types, macros and static inline functions;
  5. no circle of #includes between modules (a header counts as its owner);
  6. no circle of calls between object files (a uses b and b uses a, or
     longer), read from the symbols of the objects.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.chdir(ROOT)
MAX_LINES = 800
results = []


def report(ok, name, detail=()):
    """Records one check and the lines that explain a failure."""
    results.append((ok, name, list(detail)))


def tracked(prefix, exts):
    """The files git tracks under prefix with one of the endings."""
    out = subprocess.run(["git", "ls-files", prefix], capture_output=True,
                         text=True, check=True).stdout.split()
    return sorted(f for f in out if f.endswith(exts))


def strip_comments(text):
    """The text without C comments (strings are left alone)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def declared(header):
    """The names a header declares extern (functions and variables)."""
    text = strip_comments(open(header).read())
    text = re.sub(r"^\s*#.*?(?<!\\)$", " ", text, flags=re.M | re.S)
    names = []
    for stmt in re.findall(r"\bextern\b([^;{]*);", text):
        stmt = re.sub(r"\s+", " ", stmt)
        if stmt.strip().startswith('"C"'):
            continue
        m = re.match(r"[^(]*?(\w+)\s*\((?!\s*\*)", stmt)
        if m:
            names.append(m.group(1))
            continue
        m = re.match(r"[^(]*\(\s*\*\s*(\w+)\s*\)", stmt)
        if m:
            names.append(m.group(1))
            continue
        m = re.search(r"(\w+)\s*(\[[^\]]*\]\s*)*$", stmt)
        if m:
            names.append(m.group(1))
    return names


def symbols(obj):
    """(defined, undefined) global symbols of an object file."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCGSV":
            defined.add(parts[2])
    return defined, undefined


def owner(header, sources):
    """The module a header belongs to: its .c file, its folder, or None."""
    base = header[:-2]
    if base + ".c" in sources:
        return base + ".c"
    folder = os.path.dirname(header)
    if os.path.basename(base) == os.path.basename(folder):
        return folder + "/"
    return None


def members(module, sources):
    """The .c files of a module (one file, or every file below a folder)."""
    if module.endswith("/"):
        return [s for s in sources if s.startswith(module)]
    return [module]


def circles(edges):
    """The strongly connected groups of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

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
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


files = tracked("src", (".c", ".h"))
sources = set(f for f in files if f.endswith(".c"))
headers = [f for f in files if f.endswith(".h")]

# 1. sizes
long_files = []
for f in files:
    n = sum(1 for _ in open(f, encoding="utf-8", errors="replace"))
    if n > MAX_LINES:
        long_files.append("%s: %d lines" % (f, n))
report(not long_files, "no source file under src/ is over %d lines" % MAX_LINES, long_files)

# 2. header comments
no_comment = [f for f in files if not open(f).read().lstrip().startswith("/*")]
report(not no_comment, "every source file starts with a comment", no_comment)

# 3. pointers outside the repository
outside = []
for f in files + tracked("src", (".md",)) + ["README.md"]:
    for i, line in enumerate(open(f, encoding="utf-8", errors="replace"), 1):
        if re.search(r"\.\./shared|shared/providers|providers\.md", line):
            outside.append("%s:%d: %s" % (f, i, line.strip()))
report(not outside, "no source file or README points outside the repository", outside)

# 4. header ownership (needs the objects of a build)
BUILD = sys.argv[1] if len(sys.argv) > 1 else ROOT
objects = {s: os.path.join(BUILD, s[:-2] + ".o") for s in sources}
missing = [o for o in objects.values() if not os.path.exists(o)]
if missing:
    report(False, "the objects are built (run make first)", missing[:5])
    defs = {s: set() for s in sources}
    undefs = {s: set() for s in sources}
else:
    defs, undefs = {}, {}
    for s, o in objects.items():
        defs[s], undefs[s] = symbols(o)
foreign = []
for h in headers:
    names = declared(h)
    mod = owner(h, sources)
    if mod is None:
        if names:
            foreign.append("%s declares %s but has no module (no %s.c, not named after its folder)"
                           % (h, ", ".join(names), h[:-2]))
        continue
    mine = set()
    for s in members(mod, sources):
        mine |= defs.get(s, set())
    for n in names:
        if n not in mine:
            where = [s for s in sources if n in defs.get(s, set())]
            foreign.append("%s declares %s, defined %s" %
                           (h, n, "in " + ", ".join(where) if where else "nowhere"))
report(not foreign, "every header declares only what its own module defines", foreign)

# 5. include circles between modules
inc_edges = {}
for f in files:
    src_mod = f if f.endswith(".c") else owner(f, sources)
    if src_mod is None:
        continue
    for inc in re.findall(r'^\s*#\s*include\s+"([^"]+)"', open(f).read(), re.M):
        path = os.path.normpath(os.path.join("src", inc))
        if not os.path.exists(path):
            path = os.path.normpath(os.path.join(os.path.dirname(f), inc))
        if path not in headers:
            continue
        dst = owner(path, sources)
        if dst is None or dst == src_mod:
            continue
        # a file and the folder it belongs to are one module
        if dst.endswith("/") and src_mod.startswith(dst):
            continue
        if src_mod.endswith("/") and dst.startswith(src_mod):
            continue
        inc_edges.setdefault(src_mod, set()).add(dst)
inc_circles = circles(inc_edges)
report(not inc_circles, "no include circle between modules",
       [" <-> ".join(g) for g in inc_circles])

# 6. call circles between object files
definer = {}
for s, d in defs.items():
    for n in d:
        definer[n] = s
call_edges = {}
for s, u in undefs.items():
    for n in u:
        t = definer.get(n)
        if t and t != s:
            call_edges.setdefault(s, set()).add(t)
call_circles = circles(call_edges)
detail = []
for g in call_circles:
    for a in g:
        for b in sorted(call_edges.get(a, ())):
            if b in g:
                used = sorted(n for n in undefs[a] if definer.get(n) == b)
                detail.append("%s uses %s: %s" % (a, b, ", ".join(used)))
report(not call_circles, "no circle of calls between object files", detail)

print("1..%d" % len(results))
for i, (ok, name, lines) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    for line in lines:
        print("#   " + line)
sys.exit(0 if all(r[0] for r in results) else 1)
