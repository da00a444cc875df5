/*
 * template.c
 *	  The Mustache renderer for notification templates: variables, dotted
 *	  names, sections, inverted sections, comments, set delimiters and
 *	  partials, with standalone-line rules as the official spec states them.
 *	  Output is escaped for where it goes: HTML for html bodies, JSON string
 *	  contents for json payloads (so no value can break the payload), none
 *	  for plain text.  Data is a jsonb document.
 *
 *	  Templates, data and partials are caller input, so every resource is
 *	  bounded with an error naming the limit (MUS_MAX_*): nesting, partial
 *	  recursion, output size and render steps; parsing and rendering check
 *	  the stack and let a cancel or statement_timeout in.  Each partial is compiled
 *	  once per render, and a render's allocations live in its own memory
 *	  context, per tag ones in a scratch context reset after each tag.
 */
#include "postgres.h"

#include "compat.h"
#include "notify/enqueue/template.h"

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

/*
 * Limits.  Every one is an error naming it, never a crash, an endless loop or
 * unbounded memory; they are far above what a notification needs.
 */
#define MUS_MAX_NESTING 100		/* sections inside sections, partials' counted */
#define MUS_MAX_PARTIAL_DEPTH 32	/* partials including partials */
#define MUS_MAX_OUTPUT (1024 * 1024)	/* bytes of one rendered template */
#define MUS_MAX_PARTIAL_SOURCE (4 * 1024 * 1024)	/* partial source compiled per render */
#define MUS_MAX_STEPS 20000000	/* tags, texts and section iterations visited */
#define MUS_MAX_DELIM 16

typedef enum MusKind
{
	MUS_TEXT,
	MUS_VAR,					/* {{name}}: escaped */
	MUS_RAW,					/* {{{name}}} and {{&name}} */
	MUS_SECTION,
	MUS_INVERTED,
	MUS_PARTIAL
} MusKind;

typedef struct MusPartial MusPartial;

typedef struct MusToken
{
	MusKind		kind;
	char	   *text;			/* literal text, or the tag's name */
	char	   *indent;			/* standalone partial: its indentation */
	List	   *children;		/* section bodies */
	MusPartial *partial;		/* partial: its compiled form, once looked up */
} MusToken;

typedef struct MusParser
{
	const char *src;
	int			len;
	int			pos;
	char		otag[MUS_MAX_DELIM + 1];
	char		ctag[MUS_MAX_DELIM + 1];
	const char *what;			/* template name, for errors */
} MusParser;

/* A partial compiled for one indentation: the key and value of the cache. */
typedef struct MusPartialKey
{
	const char *name;
	const char *indent;
} MusPartialKey;

struct MusPartial
{
	MusPartialKey key;
	bool		missing;		/* no such partial: renders as nothing */
	List	   *tokens;
};

typedef struct MusRender
{
	const char *what;			/* template name, for errors */
	TsEscape	escape;
	TsPartialLookup partial;
	void	   *partial_arg;
	HTAB	   *partials;		/* MusPartialKey -> MusPartial, per render */
	MemoryContext cache_cxt;	/* compiled partials: the render's lifetime */
	MemoryContext scratch;		/* one tag's lookups and texts; reset after each */
	StringInfo	out;
	JsonbValue *stack[MUS_MAX_NESTING + 1];	/* contexts, innermost last */
	int			nstack;
	int			nesting;		/* sections open now, across partials */
	int			partial_depth;
	int64		steps;
	Size		partial_source;	/* bytes of partial source compiled so far */
} MusRender;

/* Reports a template that does not parse. */
static void
mus_syntax_error(MusParser *ps, const char *detail, int at)
{
	int			line = 1;

	for (int i = 0; i < at && i < ps->len; i++)
		if (ps->src[i] == '\n')
			line++;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("template \"%s\" does not parse", ps->what),
			 errdetail("%s at line %d.", detail, line)));
}

/* Finds needle in src[from..len), or returns -1. */
static int
mus_find(const char *src, int len, int from, const char *needle)
{
	int			n = strlen(needle);

	for (int i = from; i + n <= len; i++)
		if (memcmp(src + i, needle, n) == 0)
			return i;
	return -1;
}

/* Returns a trimmed copy of s[0..n). */
static char *
mus_trim(const char *s, int n)
{
	while (n > 0 && isspace((unsigned char) *s))
		s++, n--;
	while (n > 0 && isspace((unsigned char) s[n - 1]))
		n--;
	return pnstrdup(s, n);
}

/* Appends a token to *list. */
static void
mus_add(List **list, MusKind kind, char *text)
{
	MusToken   *t = palloc0(sizeof(MusToken));

	t->kind = kind;
	t->text = text;
	*list = lappend(*list, t);
}

/* Applies a {{=<open> <close>=}} tag. */
static void
mus_set_delimiters(MusParser *ps, const char *content, int at)
{
	char	   *copy = pstrdup(content);
	char	   *open = strtok(copy, " \t\r\n");
	char	   *close = strtok(NULL, " \t\r\n");

	if (!open || !close || strtok(NULL, " \t\r\n") ||
		strlen(open) > MUS_MAX_DELIM || strlen(close) > MUS_MAX_DELIM ||
		strchr(open, '=') || strchr(close, '='))
		mus_syntax_error(ps, "Bad set-delimiter tag", at);
	strcpy(ps->otag, open);
	strcpy(ps->ctag, close);
}

/* Reports sections nested deeper than MUS_MAX_NESTING. */
static void
mus_nesting_error(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("template \"%s\" nests sections too deeply", what),
			 errdetail("Sections may nest at most %d levels deep, counting those of included partials.",
					   MUS_MAX_NESTING)));
}

/*
 * Parses tokens until the closing tag of section `closing` (or the end when
 * closing is NULL), applying the standalone-line rules as it goes; depth is
 * the number of sections open around it.
 */
static List *
mus_parse(MusParser *ps, const char *closing, int depth)
{
	List	   *out = NIL;

	check_stack_depth();
	if (depth > MUS_MAX_NESTING)
		mus_nesting_error(ps->what);
	for (;;)
	{
		int			olen = strlen(ps->otag);
		int			start = mus_find(ps->src, ps->len, ps->pos, ps->otag);
		int			inner,
					end,
					after,
					ls,
					next;
		char		type;
		char	   *content;
		bool		standalone = false;

		CHECK_FOR_INTERRUPTS();
		if (start < 0)
		{
			if (ps->pos < ps->len)
				mus_add(&out, MUS_TEXT, pnstrdup(ps->src + ps->pos, ps->len - ps->pos));
			if (closing)
				mus_syntax_error(ps, psprintf("Section \"%s\" is not closed", closing), ps->len);
			return out;
		}

		/* the tag: its type character, its content, where it ends */
		inner = start + olen;
		type = inner < ps->len ? ps->src[inner] : '\0';
		if (strchr("#^/>!=&{", type) && type != '\0')
			inner++;
		else
			type = '\0';
		if (type == '{' || type == '=')
		{
			char		closer[MUS_MAX_DELIM + 2];

			snprintf(closer, sizeof(closer), "%c%s", type == '{' ? '}' : '=', ps->ctag);
			end = mus_find(ps->src, ps->len, inner, closer);
			if (end < 0)
				mus_syntax_error(ps, "Unclosed tag", start);
			content = mus_trim(ps->src + inner, end - inner);
			after = end + strlen(closer);
		}
		else
		{
			end = mus_find(ps->src, ps->len, inner, ps->ctag);
			if (end < 0)
				mus_syntax_error(ps, "Unclosed tag", start);
			content = mus_trim(ps->src + inner, end - inner);
			after = end + strlen(ps->ctag);
		}
		if (type != '!' && type != '=' && content[0] == '\0')
			mus_syntax_error(ps, "Empty tag", start);

		/*
		 * standalone: alone on its line, which then disappears; only blanks
		 * since the line's start, which is not before the text not yet
		 * consumed (walking back over blanks only keeps this linear)
		 */
		ls = start;
		while (ls > ps->pos && (ps->src[ls - 1] == ' ' || ps->src[ls - 1] == '\t'))
			ls--;
		next = after;
		if (type != '\0' && type != '&' && type != '{' &&
			(ls == 0 || ps->src[ls - 1] == '\n'))
		{
			{
				int			j = after;

				while (j < ps->len && (ps->src[j] == ' ' || ps->src[j] == '\t'))
					j++;
				if (j == ps->len)
					standalone = true, next = j;
				else if (ps->src[j] == '\n')
					standalone = true, next = j + 1;
				else if (ps->src[j] == '\r' && j + 1 < ps->len && ps->src[j + 1] == '\n')
					standalone = true, next = j + 2;
			}
		}
		if ((standalone ? ls : start) > ps->pos)
			mus_add(&out, MUS_TEXT, pnstrdup(ps->src + ps->pos, (standalone ? ls : start) - ps->pos));
		ps->pos = next;

		switch (type)
		{
			case '!':
				break;
			case '=':
				mus_set_delimiters(ps, content, start);
				break;
			case '#':
			case '^':
				mus_add(&out, type == '#' ? MUS_SECTION : MUS_INVERTED, content);
				((MusToken *) llast(out))->children = mus_parse(ps, content, depth + 1);
				break;
			case '/':
				if (closing == NULL || strcmp(closing, content) != 0)
					mus_syntax_error(ps, psprintf("Unexpected closing tag \"%s\"", content), start);
				return out;
			case '>':
				mus_add(&out, MUS_PARTIAL, content);
				((MusToken *) llast(out))->indent =
					standalone ? pnstrdup(ps->src + ls, start - ls) : "";
				break;
			case '&':
			case '{':
				mus_add(&out, MUS_RAW, content);
				break;
			default:
				mus_add(&out, MUS_VAR, content);
				break;
		}
	}
}

/* Parses a whole template with the default delimiters. */
static List *
mus_compile(const char *src, int len, const char *what)
{
	MusParser	ps;

	ps.src = src;
	ps.len = len;
	ps.pos = 0;
	ps.what = what;
	strcpy(ps.otag, "{{");
	strcpy(ps.ctag, "}}");
	return mus_parse(&ps, NULL, 0);
}

/* Looks up one key in an object value, or returns NULL. */
static JsonbValue *
mus_key(JsonbValue *v, const char *key)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return getKeyJsonValueFromContainer(v->val.binary.data, key, strlen(key), NULL);
}

/* Counts one step of rendering against MUS_MAX_STEPS and lets a cancel in. */
static void
mus_step(MusRender *r)
{
	CHECK_FOR_INTERRUPTS();
	if (++r->steps > MUS_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("template \"%s\" takes too many steps to render", r->what),
				 errdetail("Rendering may take at most %d steps (tags, texts, section items and name lookups).",
						   MUS_MAX_STEPS)));
}

/* Resolves a (dotted) name against the context stack; each probe is a step. */
static JsonbValue *
mus_lookup(MusRender *r, const char *name)
{
	char	   *copy;
	char	   *part;
	char	   *save;
	JsonbValue *v = NULL;

	if (strcmp(name, ".") == 0)
		return r->nstack > 0 ? r->stack[r->nstack - 1] : NULL;

	copy = pstrdup(name);
	part = strtok_r(copy, ".", &save);
	/* the first part: the innermost context that has it */
	for (int i = r->nstack - 1; i >= 0 && part; i--)
	{
		mus_step(r);
		v = mus_key(r->stack[i], part);
		if (v)
			break;
	}
	/* the rest: inside that value only */
	while (v && (part = strtok_r(NULL, ".", &save)) != NULL)
	{
		mus_step(r);
		v = mus_key(v, part);
	}
	return v;
}

/* Mustache truthiness: missing, null, false, "" and [] are false. */
static bool
mus_truthy(JsonbValue *v)
{
	if (v == NULL || v->type == jbvNull)
		return false;
	if (v->type == jbvBool)
		return v->val.boolean;
	if (v->type == jbvString)
		return v->val.string.len > 0;
	if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
		return JsonContainerSize(v->val.binary.data) > 0;
	return true;
}

/* The text a value interpolates as. */
static char *
mus_value_text(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "";
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return v->val.boolean ? "true" : "false";
		case jbvBinary:
			return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
		default:
			return "";
	}
}

/* Reports output beyond MUS_MAX_OUTPUT. */
static void
mus_output_error(MusRender *r)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("rendered template \"%s\" is too long", r->what),
			 errdetail("A rendered template may be at most %d bytes.", MUS_MAX_OUTPUT)));
}

/* The HTML entity that stands for c in escaped output, or NULL when c stands for itself. */
static const char *
mus_html_entity(char c)
{
	switch (c)
	{
		case '&':
			return "&amp;";
		case '<':
			return "&lt;";
		case '>':
			return "&gt;";
		case '"':
			return "&quot;";
		case '\'':
			return "&#39;";
		default:
			return NULL;
	}
}

/* Appends s to the output escaped for it, within MUS_MAX_OUTPUT. */
static void
mus_append(MusRender *r, const char *s, TsEscape escape)
{
	StringInfo	out = r->out;
	size_t		n = strlen(s);

	/* escaping never shrinks a value: refuse before growing the buffer */
	if (n > (size_t) (MUS_MAX_OUTPUT - out->len))
		mus_output_error(r);
	if (escape == TS_ESCAPE_JSON)
	{
		StringInfoData q;

		initStringInfo(&q);
		escape_json(&q, s);
		if (q.len - 2 > MUS_MAX_OUTPUT - out->len)
			mus_output_error(r);
		appendBinaryStringInfo(out, q.data + 1, q.len - 2);	/* without the quotes */
		return;
	}
	if (escape == TS_ESCAPE_NONE)
	{
		appendBinaryStringInfo(out, s, (int) n);
		return;
	}
	for (; *s; s++)
	{
		const char *entity = mus_html_entity(*s);

		if (entity)
			appendStringInfoString(out, entity);
		else
			appendStringInfoChar(out, *s);
		if (out->len > MUS_MAX_OUTPUT)
			mus_output_error(r);
	}
}

/* Indents every line of a partial's source (a standalone partial's rule). */
static char *
mus_indent(const char *src, const char *indent)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, indent);
	for (const char *p = src; *p; p++)
	{
		appendStringInfoChar(&buf, *p);
		if (*p == '\n' && p[1] != '\0')
			appendStringInfoString(&buf, indent);
	}
	return buf.data;
}

/* Hashes a partial's cache key (name and indentation). */
static uint32
mus_partial_hash(const void *key, Size keysize)
{
	const MusPartialKey *k = key;

	(void) keysize;
	return hash_combine(hash_bytes((const unsigned char *) k->name, strlen(k->name)),
						hash_bytes((const unsigned char *) k->indent, strlen(k->indent)));
}

/* Compares two partial cache keys; 0 when equal. */
static int
mus_partial_match(const void *key1, const void *key2, Size keysize)
{
	const MusPartialKey *a = key1;
	const MusPartialKey *b = key2;

	(void) keysize;
	return strcmp(a->name, b->name) != 0 || strcmp(a->indent, b->indent) != 0;
}

/*
 * The compiled form of partial tag t: looked up and compiled once per
 * render and indentation, in the render's cache context.
 */
static MusPartial *
mus_partial_get(MusRender *r, MusToken *t)
{
	MusPartialKey key;
	MusPartial *p;
	bool		found;
	MemoryContext old;

	if (t->partial)
		return t->partial;
	if (r->partials == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(MusPartialKey);
		ctl.entrysize = sizeof(MusPartial);
		ctl.hash = mus_partial_hash;
		ctl.match = mus_partial_match;
		ctl.hcxt = r->cache_cxt;
		r->partials = hash_create("mustache partials", 16, &ctl,
								  HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	}
	key.name = t->text;
	key.indent = t->indent;
	p = hash_search(r->partials, &key, HASH_ENTER, &found);
	if (!found)
	{
		char	   *src;

		p->missing = true;
		p->tokens = NIL;
		old = MemoryContextSwitchTo(r->cache_cxt);
		src = r->partial ? r->partial(t->text, r->partial_arg) : NULL;
		if (src != NULL)
		{
			if (t->indent[0] != '\0')
				src = mus_indent(src, t->indent);
			/* each indentation is a copy: bound them all together */
			r->partial_source += strlen(src);
			if (r->partial_source > MUS_MAX_PARTIAL_SOURCE)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("partials of template \"%s\" are too large", r->what),
						 errdetail("The partials one render compiles (each indentation counted) may total at most %d bytes.",
								   MUS_MAX_PARTIAL_SOURCE)));
			p->tokens = mus_compile(src, strlen(src), t->text);
			p->missing = false;
		}
		MemoryContextSwitchTo(old);
	}
	t->partial = p;
	return p;
}

static void mus_render(MusRender *r, List *tokens);

/* Renders a section body once with v (copied) pushed as the innermost context. */
static void
mus_render_with(MusRender *r, JsonbValue *v, List *tokens)
{
	JsonbValue	ctx = *v;		/* points into the data, not into scratch */

	MemoryContextReset(r->scratch);
	r->stack[r->nstack++] = &ctx;
	mus_render(r, tokens);
	r->nstack--;
}

/* Renders a section: once, or once per item of an array. */
static void
mus_render_section(MusRender *r, MusToken *t)
{
	MemoryContext old = MemoryContextSwitchTo(r->scratch);
	JsonbValue *v = mus_lookup(r, t->text);
	bool		truthy = mus_truthy(v);

	MemoryContextSwitchTo(old);
	if (t->kind == MUS_INVERTED || !truthy)
	{
		MemoryContextReset(r->scratch);
		if (t->kind == MUS_INVERTED && !truthy)
			mus_render(r, t->children);
		return;
	}
	if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
	{
		JsonbContainer *array = v->val.binary.data;
		uint32		n = JsonContainerSize(array);

		for (uint32 i = 0; i < n; i++)
		{
			mus_step(r);
			old = MemoryContextSwitchTo(r->scratch);
			v = getIthJsonbValueFromContainer(array, i);
			MemoryContextSwitchTo(old);
			mus_render_with(r, v, t->children);
		}
	}
	else
		mus_render_with(r, v, t->children);
}

/* Renders a token list into r->out. */
static void
mus_render(MusRender *r, List *tokens)
{
	ListCell   *lc;

	check_stack_depth();
	foreach(lc, tokens)
	{
		MusToken   *t = lfirst(lc);
		MemoryContext old;
		JsonbValue *v;

		mus_step(r);
		switch (t->kind)
		{
			case MUS_TEXT:
				mus_append(r, t->text, TS_ESCAPE_NONE);
				break;
			case MUS_VAR:
			case MUS_RAW:
				old = MemoryContextSwitchTo(r->scratch);
				v = mus_lookup(r, t->text);
				if (v)
					mus_append(r, mus_value_text(v),
							   t->kind == MUS_RAW && r->escape == TS_ESCAPE_HTML ? TS_ESCAPE_NONE : r->escape);
				MemoryContextSwitchTo(old);
				MemoryContextReset(r->scratch);
				break;
			case MUS_SECTION:
			case MUS_INVERTED:
				if (++r->nesting > MUS_MAX_NESTING)
					mus_nesting_error(r->what);
				mus_render_section(r, t);
				r->nesting--;
				break;
			case MUS_PARTIAL:
				{
					MusPartial *p = mus_partial_get(r, t);

					if (p->missing)
						break;	/* a missing partial renders as nothing */
					if (++r->partial_depth > MUS_MAX_PARTIAL_DEPTH)
						ereport(ERROR,
								(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
								 errmsg("partials nest more than %d deep", MUS_MAX_PARTIAL_DEPTH),
								 errdetail("Partial \"%s\" is included %d partials deep; the limit is %d.",
										   t->text, r->partial_depth, MUS_MAX_PARTIAL_DEPTH)));
					mus_render(r, p->tokens);
					r->partial_depth--;
				}
				break;
		}
	}
}

/* Checks that a template parses; errors name it.  Nothing is left allocated. */
void
ts_template_check(const char *src, const char *what)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "mustache check",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	(void) mus_compile(src, strlen(src), what);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * Renders a Mustache template with jsonb data; partials come from lookup.
 * The result is allocated in the caller's memory context, everything else
 * in a context of the render's own, deleted at its end.
 */
char *
ts_template_render(const char *src, const char *what, Jsonb *data, TsEscape escape,
				   TsPartialLookup lookup, void *lookup_arg)
{
	MusRender	r;
	StringInfo	out = makeStringInfo();
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "mustache render",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *tokens = mus_compile(src, strlen(src), what);
	JsonbValue	root;

	memset(&root, 0, sizeof(root));
	if (JB_ROOT_IS_SCALAR(data))
		root = *getIthJsonbValueFromContainer(&data->root, 0);
	else
	{
		root.type = jbvBinary;
		root.val.binary.data = &data->root;
		root.val.binary.len = VARSIZE(data) - VARHDRSZ;
	}
	memset(&r, 0, sizeof(r));
	r.what = what;
	r.escape = escape;
	r.partial = lookup;
	r.partial_arg = lookup_arg;
	r.cache_cxt = cxt;
	r.scratch = AllocSetContextCreate(cxt, "mustache scratch", ALLOCSET_DEFAULT_SIZES);
	r.out = out;
	r.stack[r.nstack++] = &root;
	mus_render(&r, tokens);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return out->data;
}

/* Parses an escape mode name. */
TsEscape
ts_escape_from_name(const char *name)
{
	if (strcmp(name, "html") == 0)
		return TS_ESCAPE_HTML;
	if (strcmp(name, "json") == 0)
		return TS_ESCAPE_JSON;
	if (strcmp(name, "text") == 0 || strcmp(name, "none") == 0 || strcmp(name, "markdown") == 0)
		return TS_ESCAPE_NONE;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown escaping \"%s\"", name),
			 errhint("Use html, json or text.")));
	return TS_ESCAPE_NONE;
}
