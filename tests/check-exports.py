#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check the dynamic symbols of the shared libipcc against its headers and version script.

usage: check-exports.py NM LIBRARY MAP HEADER...

Fails (exit 1, one line per problem) when the library exports a symbol outside ipcc_*, an
ipcc_* symbol that no public header declares IPCC_EXPORT, a symbol outside the version node of
MAP, or misses a function that a header declares IPCC_EXPORT. An export is a decision made in a
header; anything else reaching the dynamic symbol table is a leak.
"""
import re
import subprocess
import sys

PREFIX = "ipcc_"


def declared(headers):
    """Names of the functions the headers declare IPCC_EXPORT."""
    names = set()
    for path in headers:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        # Preprocessor lines (the definition of IPCC_EXPORT itself), continuations included.
        text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
        for m in re.finditer(r"\bIPCC_EXPORT\b([^;{}]*?)\b(\w+)\s*\(", text):
            names.add(m.group(2))
    return names


def version_node(map_path):
    with open(map_path, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    nodes = re.findall(r"^\s*([A-Za-z_][\w.]*)\s*\{", text, flags=re.M)
    if len(nodes) != 1:
        sys.exit(f"{map_path}: expected one version node, found {nodes}")
    return nodes[0]


def exported(nm, library):
    """{name: (type, version or None)} of the defined dynamic symbols."""
    out = subprocess.run([nm, "-D", "--defined-only", library], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        kind, sym = fields[-2], fields[-1]
        name, _, version = sym.partition("@")
        syms[name] = (kind, version.lstrip("@") or None)
    return syms


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    nm, library, map_path, headers = argv[1], argv[2], argv[3], argv[4:]
    node = version_node(map_path)
    want = declared(headers)
    have = exported(nm, library)
    errors = []
    # The version node itself is an absolute symbol of the dynamic table.
    if have.pop(node, None) is None:
        errors.append(f"no version node {node} in {library}: {map_path} was not applied")
    if not want:
        errors.append("no IPCC_EXPORT declaration found in the headers")
    for name in sorted(want - have.keys()):
        errors.append(f"{name}: declared IPCC_EXPORT in a header but not exported")
    for name, (kind, version) in sorted(have.items()):
        if not name.startswith(PREFIX):
            errors.append(f"{name} ({kind}): exported outside the {PREFIX}* name space")
        elif name not in want:
            errors.append(f"{name} ({kind}): exported but declared IPCC_EXPORT in no header")
        if version is not None and version != node:
            errors.append(f"{name}: version {version}, not {node}")

    for e in errors:
        print(e)
    print(f"{len(have)} exported, {len(want)} declared, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
