/*
 * json_write.c
 *	  The one JSON writer of the documents built in C (the realtime metrics,
 *	  the reports): members separated by ", ", values written as JSON
 *	  numbers or escaped strings, null for a missing value.
 */
#include "postgres.h"

#include "base/json_write.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"

/* Appends ", " unless first, then "key": . */
void
ts_json_key(StringInfo out, bool *first, const char *key)
{
	if (!*first)
		appendStringInfoString(out, ", ");
	*first = false;
	escape_json(out, key);
	appendStringInfoString(out, ": ");
}

/* Starts an object in an array: ", " unless it is the first, then "{". */
void
ts_json_object_begin(StringInfo out, bool first)
{
	if (!first)
		appendStringInfoString(out, ", ");
	appendStringInfoChar(out, '{');
}

/* Appends a numeric as a JSON number, or null. */
void
ts_json_numeric(StringInfo out, Numeric n)
{
	if (n == NULL)
		appendStringInfoString(out, "null");
	else
		appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out,
																		 NumericGetDatum(n))));
}

/* Appends a JSON string, or null. */
void
ts_json_text(StringInfo out, const char *s)
{
	if (s == NULL)
		appendStringInfoString(out, "null");
	else
		escape_json(out, s);
}

/* Appends a timestamptz as an ISO 8601 JSON string in the session time zone. */
void
ts_json_timestamptz(StringInfo out, TimestampTz t)
{
	char		buf[MAXDATELEN + 1];

	JsonEncodeDateTime(buf, TimestampTzGetDatum(t), TIMESTAMPTZOID, NULL);
	appendStringInfo(out, "\"%s\"", buf);
}

/* Appends "key": int64. */
void
ts_json_key_int(StringInfo out, bool *first, const char *key, int64 v)
{
	ts_json_key(out, first, key);
	appendStringInfo(out, INT64_FORMAT, v);
}

/* Appends "key": numeric-or-null. */
void
ts_json_key_numeric(StringInfo out, bool *first, const char *key, Numeric n)
{
	ts_json_key(out, first, key);
	ts_json_numeric(out, n);
}

/* Appends "key": string-or-null. */
void
ts_json_key_text(StringInfo out, bool *first, const char *key, const char *s)
{
	ts_json_key(out, first, key);
	ts_json_text(out, s);
}
