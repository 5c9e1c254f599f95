#!/usr/bin/env python3
"""Checks the module layering of lib/ (issue 12): a module may include headers of its own module and of
modules on a LOWER level only; app/ may include cli only.

    util → prom, sse, stats → sim, scrape → kube, scenario → engine → run → report → cli

Modules on the same level are independent of each other, with the exceptions in SAME_LEVEL_ALLOWED.
An include of a directory that is not a module in LEVELS is a violation too (a new module must be placed
in the order first). Only `#include "X/..."` lines are looked at (a header of the same directory, `#include
"y.hpp"`, and system headers, `#include <...>`, are not module edges).

With --links FILE (written by CMake at configure time: build/module_links.txt, one line per module library
`llmd_x dir | direct module-library links | sources`), the links are checked against the includes too:
a library links (directly or through another) every library whose header it includes, links directly no
library whose header none of its files include, and links no library of a module above its own. A header
belongs to the library of the directory that compiles its .cpp (sim/sim_config.hpp: llmd_sim_config),
else to llmd_<dir>.

Usage: check_layers.py [--links FILE] [ROOT]   (ROOT: the source tree holding lib/ and app/, default: this
script's ../). Prints every violation as `file:line: lib/A includes B (A is below B)` (link violations:
`lib/A: llmd_a ...`) and exits 1 on any; exits 0 and prints nothing when the layering holds. ctest runs it (test `layers`, label `layers`);
test/tools/check_layers_test.py proves it fails on a violation.
"""
import os
import re
import sys

# Level of each module: a module may include a module of a strictly lower level.
LEVELS = {
    "util": 0,
    "prom": 1, "sse": 1, "stats": 1,
    "sim": 2, "scrape": 2,
    "kube": 3, "scenario": 3,
    "engine": 4,
    "run": 5,
    "report": 6,
    "cli": 7,
}

# Same-level includes that the order allows, (includer, included): kube's pod discovery and restarts
# take the scenario's target and restart sections (scenario/scenario.hpp) as their input, so within
# level 3 kube sits on top of scenario; scenario never includes kube.
SAME_LEVEL_ALLOWED = {("kube", "scenario")}

# app/ holds main only: it may include cli and nothing else of lib/.
APP_ALLOWED = {"cli"}

# Known violations still to fix, (file relative to ROOT, included module), each with its issue reference.
# This list only shrinks: a violation not on it fails the check, and an entry that no longer matches a
# violation fails it too (so a fixed leak has to be taken off the list).
KNOWN_VIOLATIONS = {
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)/')
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".cc", ".ipp")


def violations(root):
    found = []
    for top in ("lib", "app"):
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                parts = rel.split("/")
                module = "app" if top == "app" else parts[1]
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        included = m.group(1)
                        problem = judge(module, included)
                        if problem:
                            found.append((rel, number, module, included, problem))
    return found


def judge(module, included):
    """None when `module` may include `included`, else the reason (the text in parentheses)."""
    if module == included:
        return None
    if module == "app":
        return None if included in APP_ALLOWED else "app may include cli only"
    if module not in LEVELS:
        return f"{module} is not in the layer order of scripts/check_layers.py"
    if included not in LEVELS:
        return f"{included} is not a module in the layer order of scripts/check_layers.py"
    if LEVELS[module] > LEVELS[included]:
        return None
    if LEVELS[module] == LEVELS[included]:
        if (module, included) in SAME_LEVEL_ALLOWED:
            return None
        return f"{module} and {included} are on the same level"
    return f"{module} is below {included}"


def read_links(path):
    """{library: (dir, [direct module-library links], [sources])} from CMake's module_links.txt."""
    libraries = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            head, deps, sources = (part.split() for part in line.split("|"))
            libraries[head[0]] = (head[1], deps, sources)
    return libraries


def library_of(libraries, directory, filename):
    """The library that owns lib/<directory>/<filename> (a header: the one compiling its .cpp)."""
    stem = os.path.splitext(filename)[0]
    for name, (dir_, _, sources) in libraries.items():
        if dir_ == directory and any(os.path.splitext(src)[0] == stem for src in sources):
            return name
    return f"llmd_{directory}" if f"llmd_{directory}" in libraries else None


def link_violations(root, libraries):
    needed = {name: {} for name in libraries}  # library -> {needed library: first "file:line header"}
    base = os.path.join(root, "lib")
    for directory in sorted(os.listdir(base)):
        folder = os.path.join(base, directory)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            owner = library_of(libraries, directory, name)
            if owner is None:
                continue
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    m = re.match(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)/([^"]+)"', line)
                    if not m:
                        continue
                    target = library_of(libraries, m.group(1), os.path.basename(m.group(2)))
                    if target and target != owner:
                        needed[owner].setdefault(target, f"lib/{directory}/{name}:{number}: {m.group(1)}/{m.group(2)}")

    def closure(name):
        seen, todo = set(), list(libraries[name][1])
        while todo:
            dep = todo.pop()
            if dep not in seen and dep in libraries:
                seen.add(dep)
                todo.extend(libraries[dep][1])
        return seen

    found = []
    for name, (directory, deps, _) in sorted(libraries.items()):
        reachable = closure(name)
        for target, where in sorted(needed[name].items()):
            if target not in reachable:
                found.append(f"{where}: {name} includes a header of {target} but does not link it")
        for dep in deps:
            if dep in libraries and dep not in needed[name]:
                found.append(f"lib/{directory}: {name} links {dep} but includes none of its headers")
            if dep in libraries:
                problem = judge(directory, libraries[dep][0])
                if problem:
                    found.append(f"lib/{directory}: {name} links {dep} ({problem})")
    return found


def main(argv):
    args = argv[1:]
    links = None
    if len(args) >= 2 and args[0] == "--links":
        links = args[1]
        args = args[2:]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    if not os.path.isdir(os.path.join(root, "lib")):
        print(f"check_layers.py: {root} has no lib/ directory; pass the source tree's root", file=sys.stderr)
        return 2
    failed = False
    seen = set()
    for rel, number, module, included, problem in violations(root):
        seen.add((rel, included))
        if (rel, included) in KNOWN_VIOLATIONS:
            continue
        prefix = "app" if module == "app" else f"lib/{module}"
        print(f"{rel}:{number}: {prefix} includes {included} ({problem})")
        failed = True
    for rel, included in sorted(set(KNOWN_VIOLATIONS) - seen):
        print(f"{rel}: no longer includes {included}: take it off KNOWN_VIOLATIONS in scripts/check_layers.py")
        failed = True
    if links is not None:
        for line in link_violations(root, read_links(links)):
            print(line)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
