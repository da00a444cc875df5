#!/usr/bin/env python3
"""Runs the official Mustache spec (../shared/mustache-spec/*.json, read where
the checkout's sibling folder has it) through render_troubleshooting_mustache()
and prints one TAP line per spec test.  Standard library only."""
import json
import os
import subprocess
import sys

SPEC = os.environ.get("TS_MUSTACHE_SPEC", os.path.join(os.getcwd(), "..", "shared", "mustache-spec"))
FILES = ["comments", "delimiters", "interpolation", "inverted", "partials", "sections"]


def lit(s):
    """An SQL string literal (standard_conforming_strings)."""
    return "'" + s.replace("'", "''") + "'"


def main():
    tests = []
    for f in FILES:
        path = os.path.join(SPEC, f + ".json")
        if not os.path.exists(path):
            print("not ok 1 - mustache spec file %s is missing" % path)
            print("1..1")
            return 1
        with open(path, encoding="utf-8") as fh:
            for t in json.load(fh)["tests"]:
                tests.append((f, t))

    sql = ["\\set ON_ERROR_STOP 0", "\\pset tuples_only on", "\\pset format unaligned"]
    for i, (f, t) in enumerate(tests, 1):
        sql.append(
            "SELECT %d || '|' || (r = %s)::text || '|' || r FROM (SELECT render_troubleshooting_mustache(%s, %s::jsonb, %s::jsonb, 'html') AS r) x;"
            % (i, lit(t["expected"]), lit(t["template"]), lit(json.dumps(t["data"])),
               lit(json.dumps(t.get("partials", {})))))
    proc = subprocess.run(["psql", "-X", "-q", "-U", "postgres", "-d", os.environ.get("TS_DB", "postgres")],
                          input="\n".join(sql), capture_output=True, text=True)
    results = {}
    current = None
    for line in proc.stdout.split("\n"):
        head = line.split("|", 2)
        if len(head) >= 2 and head[0].isdigit() and head[1] in ("true", "false"):
            current = int(head[0])
            results[current] = [head[1] == "true", head[2] if len(head) > 2 else ""]
        elif current is not None:
            results[current][1] += "\n" + line   # rendered text spanning lines

    failed = 0
    for i, (f, t) in enumerate(tests, 1):
        ok = i in results and results[i][0]
        print("%s %d - %s: %s" % ("ok" if ok else "not ok", i, f, t["name"]))
        if not ok:
            failed += 1
            print("#   template: %r" % t["template"])
            print("#   expected: %r" % t["expected"])
            print("#   got:      %r" % (results[i][1] if i in results else "(error)"))
    if proc.stderr.strip():
        print("# " + proc.stderr.strip().replace("\n", "\n# "))
    print("1..%d" % len(tests))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
