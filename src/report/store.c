/*
 * store.c
 *	  The reports table, support_troubleshooting_reports: the report cache
 *	  (a document by cache key while it has not expired), new report ids,
 *	  storing a generated report, and loading a stored one by id.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "metrics/read.h"
#include "report/report.h"
#include "report/store.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

/* The reports table, schema-qualified and quoted. */
static char *
ts_reports_table(void)
{
	return ts_qualified_name(ts_extension_schema(false), "support_troubleshooting_reports");
}

/* The cached document for a key if one has not expired (SPI connected), else NULL. */
Jsonb *
ts_report_cache_lookup(const char *key)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(key)};
	bool		isnull;
	Datum		d;
	int			ret;

	ret = SPI_execute_with_args(psprintf("SELECT data FROM %s WHERE cache_key = $1 AND expires_at > now()"
										 " ORDER BY generated_at DESC LIMIT 1", ts_reports_table()),
								1, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report cache lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/* A new report id from the table's identity sequence. */
int64
ts_report_next_id(void)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(ts_reports_table())};
	int			ret;

	ret = SPI_execute_with_args("SELECT nextval(pg_catalog.pg_get_serial_sequence($1, 'id'))",
								1, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "report id allocation failed: %s", SPI_result_code_string(ret));
	return ts_get_int64(0, 1);
}

/* Stores a generated report (its cache entry expires ttl minutes after generated_at). */
void
ts_report_store(int64 id, const char *type, const char *key, Jsonb *doc,
				TimestampTz generated_at, int ttl, double ms)
{
	Oid			types[7] = {INT8OID, TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID, INT4OID, FLOAT8OID};
	Datum		values[7];
	int			ret;

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(type);
	values[2] = CStringGetTextDatum(key);
	values[3] = JsonbPGetDatum(doc);
	values[4] = TimestampTzGetDatum(generated_at);
	values[5] = Int32GetDatum(ttl);
	values[6] = Float8GetDatum(ms);
	/* parameters: what the report was asked for, taken from the document */
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s (id, report_type, parameters, cache_key, data,"
										 " generated_at, expires_at, generation_ms)"
										 " VALUES ($1, $2, jsonb_build_object('start', $4->'period'->'start',"
										 " 'end', $4->'period'->'end', 'filters', $4->'filters',"
										 " 'include_charts', $4->'include_charts'),"
										 " $3, $4, $5, $5 + make_interval(mins => $6), $7)",
										 ts_reports_table()),
								7, types, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "storing the report failed: %s", SPI_result_code_string(ret));
}

/* Loads a stored report's document; an error when there is none. */
Jsonb *
ts_report_load(int64 id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	MemoryContext callercxt = CurrentMemoryContext;
	Jsonb	   *result = NULL;
	bool		isnull;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* not read-only: a report generated earlier in the same statement is seen */
	ret = SPI_execute_with_args(psprintf("SELECT data FROM %s WHERE id = $1", ts_reports_table()),
								1, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(callercxt);

		result = DatumGetJsonbPCopy(d);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("report " INT64_FORMAT " does not exist", id),
				 errhint("Reports are removed by cleanup once their cache entry expires (report_cache_ttl_minutes); generate it again.")));
	return result;
}
