/*
 * document.c
 *	  Reading a report document (jsonb) without trusting its shape: a
 *	  member, an object, an array and its elements, a value as text or as a
 *	  number, each NULL or false where the document holds something else;
 *	  and text as the UTF-8 bytes every export format is made of.
 */
#include "postgres.h"

#include "report/export/document.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include <math.h>

/* The value of key in object obj; NULL when obj is NULL or has no such key. */
JsonbValue *
ts_export_get(JsonbContainer *obj, const char *key)
{
	if (obj == NULL || !JsonContainerIsObject(obj))
		return NULL;
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

/* The object v holds, or NULL when v is missing or not an object. */
JsonbContainer *
ts_export_object(JsonbValue *v)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/* The array v holds, or NULL when v is missing or not an array. */
JsonbContainer *
ts_export_array(JsonbValue *v)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerIsScalar(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/* The number of elements of array arr (0 when NULL). */
int
ts_export_count(JsonbContainer *arr)
{
	return arr ? (int) JsonContainerSize(arr) : 0;
}

/* Element i of array arr (0-based, in range). */
JsonbValue *
ts_export_item(JsonbContainer *arr, int i)
{
	return getIthJsonbValueFromContainer(arr, (uint32) i);
}

/* A value as text (strings unquoted, containers as JSON); NULL for null or missing. */
char *
ts_export_text(JsonbValue *v)
{
	if (v == NULL)
		return NULL;
	switch (v->type)
	{
		case jbvNull:
			return NULL;
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		case jbvBinary:
			return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return NULL;				/* keep the compiler quiet */
}

/*
 * Sets *out to v when v is a JSON number a double holds (finite); false
 * otherwise, also for numbers beyond a double's range (1e400), which jsonb
 * accepts.
 */
bool
ts_export_number(JsonbValue *v, double *out)
{
	double		d;

	if (v == NULL || v->type != jbvNumeric || numeric_is_nan(v->val.numeric) ||
		numeric_is_inf(v->val.numeric))
		return false;
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d))
		return false;
	*out = d;
	return true;
}

/* Text in the database encoding as a bytea of its UTF-8 bytes. */
bytea *
ts_export_utf8_bytea(const char *data, int len)
{
	char	   *utf8 = pg_server_to_any(data, len, PG_UTF8);
	int			n = (utf8 == data) ? len : (int) strlen(utf8);
	bytea	   *out = (bytea *) palloc(n + VARHDRSZ);

	SET_VARSIZE(out, n + VARHDRSZ);
	memcpy(VARDATA(out), utf8, n);
	return out;
}
