#!/usr/bin/env python3
"""The module layering of docs/architecture.md ("Modules"), checked against the tree.

The table there is the one statement of which module may include which: every row names a
folder and the modules its files may include ("optic" is the public API, include/optic; "*" is
anything). This script reads that table and fails, naming the file, line and include, when

  - a file under a module includes a header of a module its row does not allow
    (#include "<module>/..."), or its CMakeLists links an optic_* library of such a module;
  - a folder under src/ has no row (the table must match the tree), or a row names a folder
    that does not exist.

    python3 tests/layers/layers_test.py [--repo DIR] [--doc docs/architecture.md]
"""
from __future__ import annotations

import argparse
import os
import re
import sys

ROW = re.compile(r"^\|\s*`(?P<folder>(?:src|include|tools)/[^`]+)`\s*\|[^|]*\|(?P<may>[^|]*)\|\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s*"(?P<path>[^"]+)"')
LINK = re.compile(r"target_link_libraries\s*\(\s*(?P<target>\S+)(?P<rest>[^)]*)\)", re.S)
DEFINE = re.compile(r"add_library\s*\(\s*(?P<target>optic_\w+)")
SOURCES = (".h", ".cc", ".cu", ".cuh", ".cc.in")
# Libraries that stand for something other than their folder (docs/architecture.md says so):
# the API's implementation and the backend registry behind optic/registry.h are `optic`; the
# KServe protobuf stubs generated in src/server are the wire protocol, `kserve`.
TARGETS = {"optic_core": "optic", "optic_registry": "optic", "optic_kserve_proto": "kserve"}


def read_table(doc):
    """{folder: set of allowed module names or {"*"}} from the Modules table of `doc`."""
    rules = {}
    in_section = False
    with open(doc) as f:
        for line in f:
            if line.startswith("## "):
                in_section = line.strip() == "## Modules"
                continue
            m = ROW.match(line.rstrip("\n")) if in_section else None
            if m:
                may = set(re.findall(r"`([^`]+)`", m["may"]))
                rules[m["folder"]] = may
    return rules


def module_of_include(path, modules):
    """The module an #include "a/b.h" names ("optic" for the API), or None (same folder)."""
    head = path.split("/", 1)[0]
    if "/" not in path:
        return None
    return head if head in modules else None


def name_of(folder):
    return "optic" if folder == "include/optic" else folder.split("/")[-1]


def check(repo, doc):
    rules = read_table(doc)
    errors = []
    if not rules:
        return [f"{doc}: no '## Modules' table with `folder` | what | `may include` rows"]
    names = {name_of(f): f for f in rules}
    # The table matches the tree.
    for entry in sorted(os.listdir(os.path.join(repo, "src"))):
        if os.path.isdir(os.path.join(repo, "src", entry)) and entry != "__pycache__" \
                and f"src/{entry}" not in rules:
            errors.append(f"src/{entry}: a module folder without a row in {doc} ## Modules")
    for folder in rules:
        if not os.path.isdir(os.path.join(repo, folder)):
            errors.append(f"{doc}: row `{folder}` names a folder that does not exist")
    # Which module defines each optic_* library.
    target_module = {}
    for folder in rules:
        for root, _, files in os.walk(os.path.join(repo, folder)):
            for fn in files:
                if fn == "CMakeLists.txt" or fn.endswith(".cmake"):
                    with open(os.path.join(root, fn)) as f:
                        for m in DEFINE.finditer(f.read()):
                            target_module[m["target"]] = TARGETS.get(m["target"], name_of(folder))
    for folder, may in rules.items():
        me = name_of(folder)
        allowed = lambda mod: "*" in may or mod == me or mod in may  # noqa: E731
        for root, _, files in os.walk(os.path.join(repo, folder)):
            if "__pycache__" in root:
                continue
            for fn in sorted(files):
                path = os.path.join(root, fn)
                rel = os.path.relpath(path, repo)
                if fn.endswith(SOURCES):
                    with open(path, errors="replace") as f:
                        for n, line in enumerate(f, 1):
                            m = INCLUDE.match(line)
                            mod = m and module_of_include(m["path"], names)
                            if mod and not allowed(mod):
                                errors.append(f"{rel}:{n}: includes \"{m['path']}\" but `{folder}` "
                                              f"may include only {sorted(may) or 'the standard library'}")
                elif fn == "CMakeLists.txt":
                    with open(path) as f:
                        text = f.read()
                    for m in LINK.finditer(text):
                        if m["target"] not in target_module or m["target"] in TARGETS:
                            continue
                        for lib in re.findall(r"\boptic_\w+", m["rest"]):
                            mod = target_module.get(lib)
                            if mod and not allowed(mod):
                                errors.append(f"{rel}: {m['target']} links {lib} (`{mod}`) but "
                                              f"`{folder}` may use only {sorted(may)}")
    return errors


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(here)))
    ap.add_argument("--doc", default=None, help="default: <repo>/docs/architecture.md")
    a = ap.parse_args()
    doc = a.doc or os.path.join(a.repo, "docs", "architecture.md")
    errors = check(a.repo, doc)
    for e in errors:
        print(e)
    if errors:
        print(f"layers: {len(errors)} violation(s) of {os.path.relpath(doc, a.repo)} ## Modules")
        return 1
    print(f"layers: every include and optic_* link follows {os.path.relpath(doc, a.repo)} ## Modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
