"""test/fuzz/gen_mustache.py: grammar-aware Mustache inputs.

Templates are built as trees (text, variables, triple and ampersand
variables, dotted names, sections, inverted sections, comments, partials,
set-delimiter tags) and written out with the delimiters in force, then
sometimes broken: unbalanced or crossed sections, unclosed tags, odd
delimiters, text-level mutations.  Partials come as sets that include each
other.

Heavy cases (the default; the engine bounds its depth, output and work):
100,000 nested sections, partial bombs, nested sections over 1,000-element
arrays.  Bounded work (TS_FUZZ_HEAVY=0): data arrays hold at most one element
in mutated templates, so sections never multiply; a partial set is kept only
when the expansion count it can reach (every occurrence of a partial's name
counted as an include) stays under a budget, which rules out include bombs.
"""
import re

from gen_common import (clean, deep_json, json_dump, mutate_string, rand_json, rand_scalar,
                        rand_string)

NAMES = ["a", "b", "c", "list", "obj", "x.y", "obj.name", "obj.list", "a.b.c", ".", "missing",
         "customer_name", "session_id", "0", "a.0", "list.0"]
DELIMS = [("{{", "}}"), ("<%", "%>"), ("[", "]"), ("|", "|"), ("<<<", ">>>"), ("{", "}"),
          ("((((((((((((((((", "))))))))))))))))"), ("=", "="), ("{{{", "}}}"), ("é", "ü"),
          ("\U0001f600", "\U0001f601"), ("a", "b"), ("{{", "{{"), ("$(", ")")]
ESCAPES = ["html", "json", "text", "markdown", "none", "", "HTML", None]
PARTIAL_BUDGET = 4000


def rand_name(r):
    """A tag name: usually a known one, sometimes odd."""
    k = r.random()
    if k < 0.8:
        return r.choice(NAMES)
    if k < 0.9:
        return r.choice(["", " ", "a b", "a..b", ".a", "a.", "#", "/", "!", "=", "&", "{", "}"])
    return rand_string(r, 10)


def gen_nodes(r, depth, partials, width=5):
    """A list of template nodes, sections nested at most depth deep."""
    out = []
    for _ in range(r.randint(0, width)):
        k = r.random()
        if k < 0.3:
            out.append(("text", r.choice(["", "x", " ", "\n", "  \n", "\r\n", "hello {", "}", "{ {",
                                          rand_string(r, 12)])))
        elif k < 0.5:
            out.append((r.choice(["var", "var", "triple", "amp"]), rand_name(r)))
        elif k < 0.7 and depth > 0:
            out.append((r.choice(["section", "inverted"]), rand_name(r),
                        gen_nodes(r, depth - 1, partials, width)))
        elif k < 0.78:
            out.append(("comment", r.choice(["", "c", "multi\nline", "}}", "{{x}}"])))
        elif k < 0.88 and partials:
            out.append(("partial", r.choice(partials), r.random() < 0.3))
        elif k < 0.95:
            out.append(("delim", r.choice(DELIMS)))
        else:
            out.append(("standalone", r.choice(["#", "^", "/", "!", ">"]), rand_name(r)))
    return out


def write(r, nodes, delim=("{{", "}}")):
    """Template text of nodes, starting with delimiters delim; returns (text, delim at end)."""
    o, c = delim
    parts = []
    for n in nodes:
        kind = n[0]
        sp = " " if r.random() < 0.2 else ""
        if kind == "text":
            parts.append(n[1])
        elif kind == "var":
            parts.append(f"{o}{sp}{n[1]}{sp}{c}")
        elif kind == "triple":
            parts.append(f"{o}{{{n[1]}}}{c}" if o == "{{" else f"{o}&{n[1]}{c}")
        elif kind == "amp":
            parts.append(f"{o}&{sp}{n[1]}{c}")
        elif kind in ("section", "inverted"):
            sigil = "#" if kind == "section" else "^"
            standalone = r.random() < 0.3
            body, (o2, c2) = write(r, n[2], (o, c))
            nl = "\n" if standalone else ""
            close = n[1] if r.random() < 0.95 else rand_name(r)   # sometimes crossed
            parts.append(f"{nl}{o}{sigil}{sp}{n[1]}{sp}{c}{nl}{body}{nl}{o2}/{close}{c2}{nl}")
            o, c = o2, c2
        elif kind == "comment":
            parts.append(f"{o}!{n[1]}{c}")
        elif kind == "partial":
            indent = "  " if n[2] else ""
            parts.append(f"\n{indent}{o}>{sp}{n[1]}{sp}{c}\n" if n[2] else f"{o}>{n[1]}{c}")
        elif kind == "delim":
            no, nc = n[1]
            if r.random() < 0.1:
                parts.append(f"{o}={no}{c}")            # malformed: one delimiter
                continue
            parts.append(f"{o}={no} {nc}={c}")
            o, c = no, nc
        elif kind == "standalone":
            parts.append(f"\n  {o}{n[1]}{n[2]}{c}  \n")
    return "".join(parts), (o, c)


def break_template(r, text):
    """Unbalanced or truncated variants of a template."""
    k = r.randrange(7)
    if k == 0:
        return text + "{{/" + rand_name(r) + "}}"
    if k == 1:
        return "{{#" + rand_name(r) + "}}" + text
    if k == 2 and text:
        return text[:r.randrange(len(text))]
    if k == 3:
        return text + r.choice(["{{", "{{{x}}", "{{#", "{{=", "{{=<% %>", "{{!", "{{>", "}}", "{{&"])
    if k == 4:
        return text.replace("}}", "}", 1)
    return mutate_string(r, text, 1 << 15)


def deep_template(r, heavy):
    """Deeply nested (balanced or not) sections, inverted sections or partial tags."""
    n = r.randint(1, 100000 if heavy and r.random() < 0.3 else 2000)
    tag = r.choice(["a", "b", "list", "obj"])
    open_, close = r.choice([(f"{{{{#{tag}}}}}", f"{{{{/{tag}}}}}"), (f"{{{{^{tag}}}}}", f"{{{{/{tag}}}}}"),
                             (f"{{{{#{tag}}}}}x", f"y{{{{/{tag}}}}}")])
    k = r.randrange(4)
    if k == 0:
        return open_ * n + "x" + close * n
    if k == 1:
        return open_ * n + "x"
    if k == 2:
        return "x" + close * n
    return open_ * n + "x" + close * (n - r.randint(1, min(n, 5)))


def partial_expansions(parts, root):
    """Most partial expansions rendering root can reach (every name occurrence an include)."""
    names = list(parts)
    refs = {}
    for n in names:
        body = parts[n] if isinstance(parts[n], str) else ""
        refs[n] = {m: len(re.findall(re.escape(m) + r"(?![0-9A-Za-z_])", body)) for m in names}
    memo = {}

    def count(n, stack):
        if n in stack:
            return float("inf")
        if n in memo:
            return memo[n]
        total = 1
        for m, k in refs[n].items():
            if k:
                total += k * count(m, stack | {n})
        memo[n] = total
        return total

    worst = 0
    for m in names:
        k = len(re.findall(re.escape(m) + r"(?![0-9A-Za-z_])", root))
        if k:
            worst += k * count(m, frozenset())
    return worst


def chain_ok(parts):
    """A set where each partial names at most one partial: cycles end at the engine's depth cap."""
    names = list(parts)
    for n in names:
        body = parts[n] if isinstance(parts[n], str) else ""
        if sum(len(re.findall(re.escape(m) + r"(?![0-9A-Za-z_])", body)) for m in names) > 1:
            return False
    return True


def gen_partials(r, heavy):
    """A partials object {name: template}, including each other; and the names."""
    names = [f"p{i}" for i in range(r.randint(0, 6))]
    if heavy and r.random() < 0.2:
        # the known bomb: each level includes the next one twice
        depth = r.randint(20, 40)
        return {f"p{i}": f"{{{{>p{i + 1}}}}}{{{{>p{i + 1}}}}}" for i in range(depth)} | {f"p{depth}": "x"}, ["p0"]
    parts = {}
    for i, n in enumerate(names):
        k = r.random()
        if k < 0.1:
            parts[n] = f"{{{{>{n}}}}}"                    # self-recursive
        elif k < 0.2:
            parts[n] = f"x{{{{>{r.choice(names)}}}}}"     # a cycle through others
        elif k < 0.3:
            parts[n] = rand_scalar(r)                     # not a string
        else:
            text, _ = write(r, gen_nodes(r, 3, names[i + 1:], 4))
            parts[n] = text if r.random() < 0.8 else break_template(r, text)
    if r.random() < 0.05:
        parts[rand_string(r, 6)] = "odd name"
    return parts, names


def gen_data(r, max_array):
    """Data for the tag names above: scalars, objects, arrays of at most max_array elements."""
    def arr():
        return [rand_json(r, 2, 3) if r.random() < 0.5 else {"name": rand_scalar(r)}
                for _ in range(r.randint(0, max_array))]
    d = {}
    for n in ["a", "b", "c", "list", "obj", "x", "customer_name", "session_id"]:
        k = r.random()
        if k < 0.25:
            d[n] = arr()
        elif k < 0.5:
            d[n] = {"name": rand_scalar(r), "list": arr(), "b": {"c": rand_scalar(r)}, "y": rand_scalar(r)}
        elif k < 0.9:
            d[n] = rand_scalar(r)
    if r.random() < 0.05:
        d["deep"] = deep_json(r, r.randint(10, 500))
    return d


def case(r, heavy):
    """One render_troubleshooting_mustache call: (template, data, partials, escape)."""
    partials, names = gen_partials(r, heavy)
    k = r.random()
    if k < 0.08:
        template = deep_template(r, heavy)
    else:
        text, _ = write(r, gen_nodes(r, r.randint(0, 6), names, 6))
        template = text if r.random() < 0.7 else break_template(r, text)
    max_array = 1
    if heavy and r.random() < 0.05:
        # nested sections over big arrays: output and time grow as the product
        template = "{{#list}}{{#list}}{{#list}}x{{/list}}{{/list}}{{/list}}"
        data = {"list": list(range(r.choice([100, 1000])))}
    else:
        data = gen_data(r, max_array)
    if not heavy and not chain_ok(partials) and partial_expansions(partials, template) > PARTIAL_BUDGET:
        partials = {}
    if r.random() < 0.03:
        partials = rand_json(r, 2)       # not an object
    return [clean(template), json_dump(data), json_dump(partials), r.choice(ESCAPES)]


def array_case(r, heavy):
    """Sections nested over arrays (a tree written here, no mutation): bounded product."""
    depth = r.randint(1, 3)
    n = r.randint(0, 1000 if heavy else 4)
    inner = r.choice(["{{.}}", "{{name}}", "x", "{{#.}}{{.}}{{/.}}", "{{^.}}e{{/.}}"])
    t = "{{#list}}" * depth + inner + "{{/list}}" * depth
    data = {"list": [r.choice([{"name": rand_scalar(r)}, rand_scalar(r), [1, 2]]) for _ in range(n)]}
    return [t, json_dump(data), "{}", r.choice(ESCAPES)]


def template_case(r, heavy):
    """A stored template: (body, subject, text_body, format, channel, data)."""
    body, names = case(r, heavy)[0], []
    if len(body) > 20000 and not heavy:
        body = body[:20000]
    subject = write(r, gen_nodes(r, 2, names, 3))[0] if r.random() < 0.8 else None
    text_body = write(r, gen_nodes(r, 2, names, 3))[0] if r.random() < 0.3 else None
    fmt = r.choice(["text", "markdown", "html", "json", "xml"])
    channel = r.choice([None, "email", "sms", "slack", "teams", "discord", "webhook", "fax"])
    return [body, subject, text_body, fmt, channel, json_dump(gen_data(r, 1))]
