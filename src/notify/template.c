/*
 * template.c
 *	  The Mustache renderer for notification templates: variables, dotted
 *	  names, sections, inverted sections, comments, set delimiters and
 *	  partials, with standalone-line rules as the official spec states them.
 *	  Output is escaped for where it goes: HTML for html bodies, JSON string
 *	  contents for json payloads (so no value can break the payload), none
 *	  for plain text.  Data is a jsonb document.
 */
#include "postgres.h"

#include "compat.h"
#include "notify/template.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#define MUS_MAX_DEPTH 64
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

typedef struct MusToken
{
	MusKind		kind;
	char	   *text;			/* literal text, or the tag's name */
	char	   *indent;			/* standalone partial: its indentation */
	List	   *children;		/* section bodies */
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

typedef struct MusRender
{
	TsEscape	escape;
	TsPartialLookup partial;
	void	   *partial_arg;
	List	   *stack;			/* JsonbValue *, innermost last */
	int			depth;
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

/*
 * Parses tokens until the closing tag of section `closing` (or the end when
 * closing is NULL), applying the standalone-line rules as it goes.
 */
static List *
mus_parse(MusParser *ps, const char *closing)
{
	List	   *out = NIL;

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

		/* standalone: alone on its line, which then disappears */
		ls = start;
		while (ls > 0 && ps->src[ls - 1] != '\n')
			ls--;
		next = after;
		if (type != '\0' && type != '&' && type != '{' && ls >= ps->pos)
		{
			int			i = ls;

			while (i < start && (ps->src[i] == ' ' || ps->src[i] == '\t'))
				i++;
			if (i == start)
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
				((MusToken *) llast(out))->children = mus_parse(ps, content);
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
	return mus_parse(&ps, NULL);
}

/* Looks up one key in an object value, or returns NULL. */
static JsonbValue *
mus_key(JsonbValue *v, const char *key)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return getKeyJsonValueFromContainer(v->val.binary.data, key, strlen(key), NULL);
}

/* Resolves a (dotted) name against the context stack. */
static JsonbValue *
mus_lookup(MusRender *r, const char *name)
{
	char	   *copy;
	char	   *part;
	char	   *save;
	JsonbValue *v = NULL;

	if (strcmp(name, ".") == 0)
		return r->stack ? llast(r->stack) : NULL;

	copy = pstrdup(name);
	part = strtok_r(copy, ".", &save);
	/* the first part: the innermost context that has it */
	for (int i = list_length(r->stack) - 1; i >= 0 && part; i--)
	{
		v = mus_key(list_nth(r->stack, i), part);
		if (v)
			break;
	}
	/* the rest: inside that value only */
	while (v && (part = strtok_r(NULL, ".", &save)) != NULL)
		v = mus_key(v, part);
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

/* Appends s escaped for the output. */
static void
mus_append(StringInfo out, const char *s, TsEscape escape)
{
	if (escape == TS_ESCAPE_JSON)
	{
		StringInfoData q;

		initStringInfo(&q);
		escape_json(&q, s);
		appendBinaryStringInfo(out, q.data + 1, q.len - 2);	/* without the quotes */
		return;
	}
	if (escape == TS_ESCAPE_NONE)
	{
		appendStringInfoString(out, s);
		return;
	}
	for (; *s; s++)
	{
		switch (*s)
		{
			case '&':
				appendStringInfoString(out, "&amp;");
				break;
			case '<':
				appendStringInfoString(out, "&lt;");
				break;
			case '>':
				appendStringInfoString(out, "&gt;");
				break;
			case '"':
				appendStringInfoString(out, "&quot;");
				break;
			case '\'':
				appendStringInfoString(out, "&#39;");
				break;
			default:
				appendStringInfoChar(out, *s);
		}
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

static void mus_render(MusRender *r, List *tokens, StringInfo out);

/* Renders one section body once with v pushed as the innermost context. */
static void
mus_render_with(MusRender *r, JsonbValue *v, List *tokens, StringInfo out)
{
	r->stack = lappend(r->stack, v);
	mus_render(r, tokens, out);
	r->stack = list_delete_last(r->stack);
}

/* Renders a token list into out. */
static void
mus_render(MusRender *r, List *tokens, StringInfo out)
{
	ListCell   *lc;

	check_stack_depth();
	foreach(lc, tokens)
	{
		MusToken   *t = lfirst(lc);
		JsonbValue *v;

		switch (t->kind)
		{
			case MUS_TEXT:
				appendStringInfoString(out, t->text);
				break;
			case MUS_VAR:
			case MUS_RAW:
				v = mus_lookup(r, t->text);
				if (v)
					mus_append(out, mus_value_text(v),
							   t->kind == MUS_RAW && r->escape == TS_ESCAPE_HTML ? TS_ESCAPE_NONE : r->escape);
				break;
			case MUS_SECTION:
				v = mus_lookup(r, t->text);
				if (!mus_truthy(v))
					break;
				if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
				{
					int			n = JsonContainerSize(v->val.binary.data);

					for (int i = 0; i < n; i++)
						mus_render_with(r, getIthJsonbValueFromContainer(v->val.binary.data, i),
										t->children, out);
				}
				else
					mus_render_with(r, v, t->children, out);
				break;
			case MUS_INVERTED:
				if (!mus_truthy(mus_lookup(r, t->text)))
					mus_render(r, t->children, out);
				break;
			case MUS_PARTIAL:
				{
					char	   *src = r->partial ? r->partial(t->text, r->partial_arg) : NULL;

					if (src == NULL)
						break;	/* a missing partial renders as nothing */
					if (++r->depth > MUS_MAX_DEPTH)
						ereport(ERROR,
								(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
								 errmsg("partials nest more than %d deep", MUS_MAX_DEPTH),
								 errdetail("Partial \"%s\" includes itself without end.", t->text)));
					if (t->indent[0] != '\0')
						src = mus_indent(src, t->indent);
					mus_render(r, mus_compile(src, strlen(src), t->text), out);
					r->depth--;
				}
				break;
		}
	}
}

/* Checks that a template parses; errors name it. */
void
ts_template_check(const char *src, const char *what)
{
	(void) mus_compile(src, strlen(src), what);
}

/* Renders a Mustache template with jsonb data; partials come from lookup. */
char *
ts_template_render(const char *src, const char *what, Jsonb *data, TsEscape escape,
				   TsPartialLookup lookup, void *lookup_arg)
{
	List	   *tokens = mus_compile(src, strlen(src), what);
	MusRender	r;
	StringInfoData out;
	JsonbValue *root = palloc0(sizeof(JsonbValue));

	if (JB_ROOT_IS_SCALAR(data))
		root = getIthJsonbValueFromContainer(&data->root, 0);
	else
	{
		root->type = jbvBinary;
		root->val.binary.data = &data->root;
		root->val.binary.len = VARSIZE(data) - VARHDRSZ;
	}
	r.escape = escape;
	r.partial = lookup;
	r.partial_arg = lookup_arg;
	r.stack = list_make1(root);
	r.depth = 0;
	initStringInfo(&out);
	mus_render(&r, tokens, &out);
	return out.data;
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
