"""test/fuzz/gen_common.py: building blocks of the fuzz generators.

Odd strings (control characters, every Unicode plane, long runs, SQL and
format metacharacters), random JSON values and documents with numbers JSON
libraries refuse (1e400, -0, 40-digit integers), and mutations of a seed
string or document.  Every choice comes from the random.Random given, so a
seed reproduces a run.  Sizes are bounded by the caller's `heavy` switch.
"""
import json
import sys

sys.setrecursionlimit(20000)

INTERESTING_STRINGS = [
    "", " ", "  ", "\t", "\r\n", "\n", "\r", "\x01", "\x7f", "\u0085", "\u2028", "\u200b",
    "\ufeff", "\ufffd", "\U0001f600", "é", "Ω", "Я", "中", "\u202e", "'", '"', "\\", "\\u0000",
    "%", "%s", "%n", "%00", "%0d%0a", "${x}", "{{", "}}", "{{{", "}}}", "<", ">", "&", ";", ",",
    ":", "@", "/", "?", "#", "[", "]", "=", "+", "-", "*", "|", "`", "$", "!", "~", "^",
    "null", "true", "false", "NaN", "Infinity", "-Infinity", "infinity", "-infinity", "0", "-0",
    "1e308", "-1e308", "1e-400", "9223372036854775807", "9223372036854775808",
    "-9223372036854775809", "2147483647", "2147483648", "-1", "0.5", "1.0000000000000001",
    "294276-01-01", "4714-11-24 BC", "epoch", "now", "allballs", "javascript:alert(1)",
    "<script>alert(1)</script>", "'; DROP TABLE x; --", "\x1b[31m", "\x08", "\x0c", "\x00",
]

JSON_NUMBERS = ["0", "-0", "1", "-1", "0.5", "1e308", "-1e308", "1e400", "-1e400", "1e-400",
                "123456789012345678901234567890123456789", "-0.000000000000000000001", "3.14159",
                "2147483648", "9223372036854775808", "1E+2", "5", "4.999999999999999999"]


def clean(s):
    """Text PostgreSQL can hold: no NUL, no lone surrogates."""
    s = s.replace("\x00", "\x01")
    return s.encode("utf-8", "replace").decode("utf-8") if any(0xD800 <= ord(c) <= 0xDFFF for c in s) else s


def rand_char(r):
    """One character from a mix of ASCII, controls, Latin, CJK and astral planes."""
    k = r.random()
    if k < 0.6:
        return chr(r.randint(0x20, 0x7e))
    if k < 0.7:
        return chr(r.randint(1, 0x1f))
    if k < 0.85:
        return chr(r.randint(0xa0, 0x7ff))
    if k < 0.95:
        return chr(r.choice([r.randint(0x800, 0xd7ff), r.randint(0xe000, 0xfffd)]))
    return chr(r.randint(0x10000, 0x10ffff))


def rand_string(r, maxlen=24):
    """A random string, often built from the interesting ones."""
    k = r.random()
    if k < 0.3:
        return clean(r.choice(INTERESTING_STRINGS))
    if k < 0.45:
        return clean("".join(r.choice(INTERESTING_STRINGS) for _ in range(r.randint(1, 4))))
    if k < 0.5:
        return r.choice("aZ0-_.") * r.randint(1, maxlen * 20)
    return clean("".join(rand_char(r) for _ in range(r.randint(0, maxlen))))


def mutate_string(r, s, maxlen=4096):
    """A copy of s with a few random edits (insert, delete, flip, repeat, splice)."""
    s = list(s)
    for _ in range(r.randint(1, 4)):
        op = r.randrange(7)
        pos = r.randint(0, len(s))
        if op == 0:
            s[pos:pos] = list(rand_string(r, 8))
        elif op == 1 and s:
            del s[pos:pos + r.randint(1, 8)]
        elif op == 2 and s:
            i = min(pos, len(s) - 1)
            s[i] = chr((ord(s[i]) ^ (1 << r.randrange(7))) or 1)
        elif op == 3 and s:
            a = r.randint(0, len(s) - 1)
            chunk = s[a:a + r.randint(1, 16)]
            s[pos:pos] = chunk * r.randint(1, 50)
        elif op == 4:
            s[pos:pos] = list(r.choice(INTERESTING_STRINGS))
        elif op == 5 and s:
            s = s[:pos]
        else:
            s[pos:pos] = [rand_char(r)]
    return clean("".join(s)[:maxlen])


def json_dump(v):
    """JSON text of v; RawNumber values are written as they are."""
    if isinstance(v, RawNumber):
        return v.text
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + json_dump(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(json_dump(x) for x in v) + "]"
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return "1e400"
    return json.dumps(v, ensure_ascii=False)


class RawNumber:
    """A JSON number kept as its text (1e400 and friends)."""

    def __init__(self, text):
        self.text = text


def rand_scalar(r):
    """A random JSON scalar."""
    k = r.randrange(8)
    if k == 0:
        return None
    if k == 1:
        return r.choice([True, False])
    if k == 2:
        return RawNumber(r.choice(JSON_NUMBERS))
    if k == 3:
        return r.randint(-5, 1000)
    if k == 4:
        return r.uniform(-1e6, 1e6)
    return rand_string(r)


def rand_json(r, depth=3, width=4):
    """A random JSON value, at most depth levels and width members per level."""
    if depth <= 0 or r.random() < 0.35:
        return rand_scalar(r)
    if r.random() < 0.5:
        return [rand_json(r, depth - 1, width) for _ in range(r.randint(0, width))]
    return {rand_string(r, 8): rand_json(r, depth - 1, width) for _ in range(r.randint(0, width))}


def deep_json(r, depth):
    """A JSON value nested depth levels deep (arrays and objects)."""
    v = rand_scalar(r)
    for _ in range(depth):
        v = [v] if r.random() < 0.5 else {"a": v}
    return v


def mutate_json(r, v, depth=0):
    """A copy of JSON value v with one member changed, removed, added or retyped."""
    if isinstance(v, dict) and v and r.random() < 0.8:
        v = dict(v)
        k = r.choice(list(v))
        op = r.randrange(5)
        if op == 0:
            del v[k]
        elif op == 1:
            v[k] = rand_json(r, 2)
        elif op == 2:
            v[rand_string(r, 8)] = rand_json(r, 2)
        else:
            v[k] = mutate_json(r, v[k], depth + 1)
        return v
    if isinstance(v, list) and v and r.random() < 0.8:
        v = list(v)
        i = r.randrange(len(v))
        op = r.randrange(5)
        if op == 0:
            del v[i]
        elif op == 1:
            v.insert(i, rand_json(r, 2))
        elif op == 2:
            v.extend([v[i]] * r.randint(1, 30))
        else:
            v[i] = mutate_json(r, v[i], depth + 1)
        return v
    if isinstance(v, str) and r.random() < 0.5:
        return mutate_string(r, v)
    return rand_json(r, 2)


def maybe_break_json(r, text):
    """JSON text, sometimes made malformed (the cast to jsonb must reject it cleanly)."""
    if r.random() < 0.05:
        return mutate_string(r, text, 1 << 16)
    return text
