#!/usr/bin/env python3
"""test/pgxn_meta.py: checks META.json against the PGXN Meta Spec 1.0.0.

Checks the shape the spec gives each key (required keys, types, semantic
versions, the spec's license names, provides entries, prereq phases and
relations, resources, tags, meta-spec), and this project's own facts: the
version equals troubleshooting.control's default_version and every file
named in provides exists in the checkout.

Usage: pgxn_meta.py ROOT            checks ROOT/META.json
       pgxn_meta.py --selftest ROOT checks that broken copies are refused
Prints one line per check, "PASS<TAB>what" or "FAIL<TAB>what: why" (the
caller turns them into TAP), and exits 1 if any check failed.
"""
import copy
import json
import os
import re
import sys

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")
SEMVER_BODY = SEMVER.pattern[1:-1]
VERSION_CLAUSE = re.compile(r"^(?:(?:[=!]=|[<>]=?)\s*)?(?:" + SEMVER_BODY + r")$")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
    "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
    "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
    "restricted", "unrestricted", "unknown"}
REQUIRED = ["name", "version", "abstract", "maintainer", "license", "provides", "meta-spec"]
TOP_KEYS = set(REQUIRED) | {"description", "generated_by", "tags", "no_index",
                            "prereqs", "release_status", "resources"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
CUSTOM = re.compile(r"^[xX]_.")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_term(v):
    """A Term: a string of two or more characters, no slash, backslash, space or control."""
    return isinstance(v, str) and re.fullmatch(r"[^/\\\s\x00-\x1f\x7f]{2,}", v) is not None


def is_tag(v):
    """A Tag: 2 to 255 characters, no slash, backslash or control character."""
    return isinstance(v, str) and re.fullmatch(r"[^/\\\x00-\x1f\x7f]{2,255}", v) is not None


def is_version_range(v):
    """A version range: 0, or comma-separated clauses of an optional operator and a SemVer."""
    if v == 0 or v == "0":
        return not isinstance(v, bool)
    if not isinstance(v, str):
        return False
    return all(VERSION_CLAUSE.match(c.strip()) for c in v.split(","))


def is_path(v):
    """A Path: relative, Unix style, at least two characters, no '..' part."""
    return (isinstance(v, str) and len(v) >= 2 and not v.startswith("/")
            and "\\" not in v and ".." not in v.split("/"))


def unknown_keys(obj, allowed):
    """The keys of obj that are neither allowed nor custom (x_...)."""
    return sorted(k for k in obj if k not in allowed and not CUSTOM.match(k))


def control_version(root):
    """default_version from ROOT/troubleshooting.control, or None."""
    try:
        with open(os.path.join(root, "troubleshooting.control"), encoding="utf-8") as f:
            for line in f:
                m = re.match(r"\s*default_version\s*=\s*'([^']*)'", line)
                if m:
                    return m.group(1)
    except OSError:
        return None
    return None


def checks(meta, root):
    """Yields (passed, description, why) for every check of document meta."""
    yield isinstance(meta, dict), "META.json is a JSON object", "not an object"
    if not isinstance(meta, dict):
        return
    missing = [k for k in REQUIRED if k not in meta]
    yield not missing, "required keys present (" + ", ".join(REQUIRED) + ")", "missing " + ", ".join(missing)
    extra = unknown_keys(meta, TOP_KEYS)
    yield not extra, "no top-level key outside the spec (custom keys start with x_)", "unknown " + ", ".join(extra)
    yield is_term(meta.get("name")), "name is a term", repr(meta.get("name"))
    yield isinstance(meta.get("version"), str) and SEMVER.match(meta["version"]) is not None, \
        "version is a semantic version", repr(meta.get("version"))
    want = control_version(root)
    yield want is not None and meta.get("version") == want, \
        "version equals troubleshooting.control's default_version", "%r vs %r" % (meta.get("version"), want)
    for key in ("abstract", "description", "generated_by"):
        if key in meta or key == "abstract":
            v = meta.get(key)
            yield isinstance(v, str) and len(v) >= 1, key + " is a non-empty string", repr(v)
    m = meta.get("maintainer")
    ok = (isinstance(m, str) and m != "") or (
        isinstance(m, list) and len(m) >= 1 and all(isinstance(x, str) and x for x in m))
    yield ok, "maintainer is a string or a non-empty list of strings", repr(m)
    lic = meta.get("license")
    if isinstance(lic, str):
        ok = lic in LICENSES
    elif isinstance(lic, list):
        ok = len(lic) >= 1 and all(isinstance(x, str) and x in LICENSES for x in lic)
    elif isinstance(lic, dict):
        ok = len(lic) >= 1 and all(isinstance(u, str) and URI.match(u) for u in lic.values())
    else:
        ok = False
    yield ok, "license is one of the spec's names (or a list of them, or names mapped to URIs)", repr(lic)
    yield from provides_checks(meta.get("provides"), root)
    yield from meta_spec_checks(meta.get("meta-spec"))
    if "prereqs" in meta:
        yield from prereqs_checks(meta["prereqs"])
    if "resources" in meta:
        yield from resources_checks(meta["resources"])
    if "tags" in meta:
        t = meta["tags"]
        yield isinstance(t, list) and len(t) >= 1 and all(is_tag(x) for x in t), \
            "tags is a non-empty list of tags", repr(t)
    if "release_status" in meta:
        yield meta["release_status"] in ("stable", "testing", "unstable"), \
            "release_status is stable, testing or unstable", repr(meta["release_status"])
    if "no_index" in meta:
        n = meta["no_index"]
        ok = isinstance(n, dict) and ("file" in n or "directory" in n) and not unknown_keys(n, {"file", "directory"})
        ok = ok and all(is_path(p) for k in ("file", "directory") if k in n
                        for p in (n[k] if isinstance(n[k], list) else [n[k]]))
        yield ok, "no_index lists relative paths under file or directory", repr(n)


def provides_checks(p, root):
    """Checks of provides: extension name to {file, version, ...}, each file present."""
    yield isinstance(p, dict) and len(p) >= 1, "provides is a non-empty object", repr(p)
    if not isinstance(p, dict):
        return
    for name, ext in sorted(p.items()):
        what = "provides." + name
        yield is_term(name), what + ": the name is a term", repr(name)
        if not isinstance(ext, dict):
            yield False, what + " is an object", repr(ext)
            continue
        extra = unknown_keys(ext, {"file", "version", "abstract", "docfile", "docpath"})
        yield "file" in ext and "version" in ext and not extra, \
            what + " has file and version and no key outside the spec", "keys " + ", ".join(sorted(ext))
        yield isinstance(ext.get("version"), str) and SEMVER.match(ext["version"]) is not None, \
            what + ".version is a semantic version", repr(ext.get("version"))
        for key in ("file", "docfile"):
            if key in ext or key == "file":
                f = ext.get(key)
                yield is_path(f) and os.path.isfile(os.path.join(root, f)), \
                    "%s.%s is a relative path to a file of the checkout" % (what, key), repr(f)
        if "abstract" in ext:
            yield isinstance(ext["abstract"], str) and ext["abstract"] != "", what + ".abstract is a non-empty string", ""
    ext = p.get("troubleshooting")
    want = control_version(root)
    yield isinstance(ext, dict) and ext.get("version") == want and \
        ext.get("file") == "troubleshooting--%s.sql" % want, \
        "provides.troubleshooting is the install script of default_version", repr(ext)


def meta_spec_checks(ms):
    """Checks of meta-spec: {version 1.0.x, url of the spec}."""
    ok = isinstance(ms, dict) and isinstance(ms.get("version"), str) and \
        re.fullmatch(r"1\.0\.\d+", ms["version"]) is not None
    yield ok, "meta-spec.version is 1.0.x", repr(ms)
    ok = isinstance(ms, dict) and ms.get("url", "https://pgxn.org/meta/spec.txt") in (
        "https://pgxn.org/meta/spec.txt", "http://pgxn.org/meta/spec.txt") and not unknown_keys(ms, {"version", "url"})
    yield ok, "meta-spec.url is the spec's address and no other key is set", repr(ms)


def prereqs_checks(pr):
    """Checks of prereqs: phases of relations of name to version range."""
    ok = isinstance(pr, dict) and len(pr) >= 1 and not unknown_keys(pr, PHASES)
    yield ok, "prereqs has only the spec's phases", repr(pr)
    if not isinstance(pr, dict):
        return
    for phase, rels in sorted(pr.items()):
        if CUSTOM.match(phase):
            continue
        ok = isinstance(rels, dict) and len(rels) >= 1 and not unknown_keys(rels, RELATIONS)
        yield ok, "prereqs.%s has only the spec's relations" % phase, repr(rels)
        if not isinstance(rels, dict):
            continue
        for rel, deps in sorted(rels.items()):
            if CUSTOM.match(rel):
                continue
            ok = isinstance(deps, dict) and len(deps) >= 1 and all(
                is_term(k) and is_version_range(v) for k, v in deps.items())
            yield ok, "prereqs.%s.%s maps names to version ranges" % (phase, rel), repr(deps)
    req = pr.get("runtime", {}).get("requires", {}) if isinstance(pr.get("runtime"), dict) else {}
    yield isinstance(req, dict) and req.get("PostgreSQL") == "15.0.0", \
        "prereqs.runtime.requires PostgreSQL 15.0.0", repr(req)


def resources_checks(r):
    """Checks of resources: homepage, bugtracker and repository shapes."""
    ok = isinstance(r, dict) and len(r) >= 1 and not unknown_keys(r, {"homepage", "bugtracker", "repository"})
    yield ok, "resources has only homepage, bugtracker, repository", repr(r)
    if not isinstance(r, dict):
        return
    if "homepage" in r:
        yield isinstance(r["homepage"], str) and URI.match(r["homepage"]) is not None, "resources.homepage is a URI", repr(r["homepage"])
    if "bugtracker" in r:
        b = r["bugtracker"]
        ok = isinstance(b, dict) and ("web" in b or "mailto" in b) and not unknown_keys(b, {"web", "mailto"})
        ok = ok and ("web" not in b or (isinstance(b["web"], str) and URI.match(b["web"]) is not None))
        ok = ok and ("mailto" not in b or (isinstance(b["mailto"], str) and EMAIL.match(b["mailto"]) is not None))
        yield ok, "resources.bugtracker has a web URI or a mailto address", repr(b)
    if "repository" in r:
        g = r["repository"]
        ok = isinstance(g, dict) and (("url" in g and "type" in g) or "web" in g) and \
            not unknown_keys(g, {"url", "web", "type"})
        ok = ok and all(isinstance(g[k], str) and URI.match(g[k]) for k in ("url", "web") if k in g)
        ok = ok and ("type" not in g or (isinstance(g["type"], str) and g["type"].islower()))
        yield ok, "resources.repository has url and type, or web", repr(g)


def run(meta, root):
    """Prints every check of meta; returns the number that failed."""
    failed = 0
    for passed, what, why in checks(meta, root):
        print(("PASS\t%s" % what) if passed else ("FAIL\t%s: %s" % (what, why)))
        failed += not passed
    return failed


def selftest(meta, root):
    """Each broken copy of meta must fail at least one check; prints one line per copy."""
    def without(key):
        m = copy.deepcopy(meta)
        m.pop(key, None)
        return m

    def changed(path, value):
        m = copy.deepcopy(meta)
        node = m
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        return m

    ext = next(iter(meta["provides"]))
    cases = [(k + " missing", without(k)) for k in REQUIRED] + [
        ("version not SemVer", changed(["version"], "4.0")),
        ("version not default_version", changed(["version"], "9.9.9")),
        ("license not in the spec's list", changed(["license"], "PostgreSQL License")),
        ("provides file missing", changed(["provides", ext, "file"], "no-such-file.sql")),
        ("provides entry without version", changed(["provides", ext], {"file": meta["provides"][ext]["file"]})),
        ("meta-spec 2.0.0", changed(["meta-spec", "version"], "2.0.0")),
        ("unknown prereq phase", changed(["prereqs"], {"install": {"requires": {"PostgreSQL": "15.0.0"}}})),
        ("bad version range", changed(["prereqs"], {"runtime": {"requires": {"PostgreSQL": ">= 15"}}})),
        ("unknown top-level key", changed(["homepage"], "https://x.invalid/")),
        ("bad release_status", changed(["release_status"], "beta")),
        ("tag with a slash", changed(["tags"], ["a/b"])),
    ]
    failed = 0
    for what, m in cases:
        caught = any(not passed for passed, _, _ in checks(m, root))
        print(("PASS\tthe checker refuses a copy with %s" if caught else
               "FAIL\tthe checker refuses a copy with %s: it passed") % what)
        failed += not caught
    return failed


def main():
    """Reads ROOT/META.json and runs the checks (or the self-test)."""
    args = sys.argv[1:]
    mode = args.pop(0) if args and args[0] == "--selftest" else None
    root = args[0] if args else "."
    try:
        with open(os.path.join(root, "META.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print("FAIL\tMETA.json reads as JSON: %s" % e)
        return 1
    print("PASS\tMETA.json reads as JSON")
    return 1 if (selftest(meta, root) if mode else run(meta, root)) else 0


if __name__ == "__main__":
    sys.exit(main())
