/*
 * render.c
 *	  SQL functions around the Mustache renderer: rendering a stored
 *	  template by name for a channel (with partials from the templates
 *	  table), rendering any template text, and checking that a template
 *	  parses (the templates table's CHECK constraint).
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "base/json_write.h"
#include "notify/channel_table.h"
#include "notify/enqueue/render.h"
#include "notify/enqueue/template.h"
#include "notify/jsonb_text.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(render_troubleshooting_template);
PG_FUNCTION_INFO_V1(render_troubleshooting_mustache);
PG_FUNCTION_INFO_V1(ts_template_parses);

typedef struct TsStoredTemplate
{
	char	   *subject;
	char	   *body;
	char	   *format;
	char	   *text_body;		/* plain-text alternative, or NULL */
} TsStoredTemplate;

typedef struct TsTemplateLookup
{
	Datum		channel;
	bool		channel_null;
} TsTemplateLookup;

/* Reads template `name` for a channel (its own row first, else the any-channel row). */
static bool
ts_template_fetch(const char *name, TsTemplateLookup *lk, TsStoredTemplate *out)
{
	Oid			nspid = ts_extension_schema(false);
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	char	   *query;
	int			ret;

	query = psprintf("SELECT subject, body, format, text_body FROM %s"
					 " WHERE name = $1 AND (channel = $2 OR channel IS NULL)"
					 " ORDER BY channel NULLS LAST LIMIT 1",
					 ts_qualified_name(nspid, "support_troubleshooting_templates"));
	args[0] = CStringGetTextDatum(name);
	args[1] = lk->channel;
	nulls[1] = lk->channel_null ? 'n' : ' ';
	ret = SPI_execute_with_args(query, 2, types, args, nulls, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read templates: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	out->subject = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	out->body = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	out->format = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	out->text_body = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	return true;
}

/* Partial lookup from the templates table. */
static char *
ts_table_partial(const char *name, void *arg)
{
	TsStoredTemplate t;

	return ts_template_fetch(name, (TsTemplateLookup *) arg, &t) ? t.body : NULL;
}

/* Partial lookup from a jsonb object {name: source}. */
static char *
ts_jsonb_partial(const char *name, void *arg)
{
	return ts_jsonb_string((Jsonb *) arg, name);
}

/* Returns '{}'::jsonb. */
Jsonb *
ts_empty_jsonb(void)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
}

/* Escaping for a template's format. */
static TsEscape
ts_format_escape(const char *format)
{
	if (strcmp(format, "html") == 0)
		return TS_ESCAPE_HTML;
	if (strcmp(format, "json") == 0)
		return TS_ESCAPE_JSON;
	return TS_ESCAPE_NONE;
}

/* Errors unless channel is one of the channels (notify/channel_table.c). */
void
ts_check_channel_name(const char *channel)
{
	if (ts_channel_find(channel) != NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown channel \"%s\"", channel),
			 errhint("Channels are %s.", ts_channel_list_text())));
}

/*
 * Renders stored template `name` for channel (NULL: the any-channel row):
 * subject and text_body without escaping, body escaped for its format;
 * the results are allocated in the caller's memory context.
 */
void
ts_render_stored_full(const char *name, const char *channel, Jsonb *data, TsRendered *out)
{
	TsTemplateLookup lk;
	TsStoredTemplate t;
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext old;

	if (channel)
		ts_check_channel_name(channel);
	lk.channel_null = (channel == NULL);
	lk.channel = channel ? CStringGetTextDatum(channel) : (Datum) 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!ts_template_fetch(name, &lk, &t))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown template \"%s\"", name),
				 errhint("SELECT name, channel FROM support_troubleshooting_templates lists them.")));
	old = MemoryContextSwitchTo(outer);
	out->subject = t.subject ? ts_template_render(t.subject, name, data, TS_ESCAPE_NONE,
												  ts_table_partial, &lk) : NULL;
	out->body = ts_template_render(t.body, name, data, ts_format_escape(t.format), ts_table_partial, &lk);
	out->format = pstrdup(t.format);
	out->text_body = t.text_body ? ts_template_render(t.text_body, name, data, TS_ESCAPE_NONE,
													  ts_table_partial, &lk) : NULL;
	MemoryContextSwitchTo(old);
	SPI_finish();
}

/* render_troubleshooting_template(name, data, channel) -> {subject, body, format, text_body} */
Datum
render_troubleshooting_template(PG_FUNCTION_ARGS)
{
	TsRendered	r;
	StringInfoData out;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("template name must not be null")));
	ts_render_stored_full(text_to_cstring(PG_GETARG_TEXT_PP(0)),
					 PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
					 PG_ARGISNULL(1) ? ts_empty_jsonb() : PG_GETARG_JSONB_P(1), &r);

	initStringInfo(&out);
	appendStringInfoString(&out, "{\"subject\": ");
	ts_json_text(&out, r.subject);
	appendStringInfoString(&out, ", \"body\": ");
	escape_json(&out, r.body);
	appendStringInfoString(&out, ", \"format\": ");
	escape_json(&out, r.format);
	appendStringInfoString(&out, ", \"text_body\": ");
	ts_json_text(&out, r.text_body);
	appendStringInfoChar(&out, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
}

/* render_troubleshooting_mustache(template, data, partials, escape) -> text */
Datum
render_troubleshooting_mustache(PG_FUNCTION_ARGS)
{
	char	   *src;
	Jsonb	   *data;
	Jsonb	   *partials;
	TsEscape	escape;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	src = text_to_cstring(PG_GETARG_TEXT_PP(0));
	data = PG_ARGISNULL(1) ? ts_empty_jsonb() : PG_GETARG_JSONB_P(1);
	partials = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	escape = ts_escape_from_name(PG_ARGISNULL(3) ? "html" : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	PG_RETURN_TEXT_P(cstring_to_text(ts_template_render(src, "inline", data, escape,
														ts_jsonb_partial, partials)));
}

/* ts_template_parses(source): true, or the parse error. */
Datum
ts_template_parses(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
		ts_template_check(text_to_cstring(PG_GETARG_TEXT_PP(0)), "new");
	PG_RETURN_BOOL(true);
}
