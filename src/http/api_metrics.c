/*
 * api_metrics.c
 *	  GET /api/support/troubleshooting/metrics?period=&start=&end=: the
 *	  metrics by period as a JSON array, read in the request's transaction.
 */
#include "postgres.h"

#include "http/api_metrics.h"
#include "http/transaction.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#define TS_MAX_PARAM_LEN 200

/*
 * GET /api/support/troubleshooting/metrics?period=&start=&end=: the rows of
 * get_troubleshooting_metrics_by_period() as a JSON array of objects, in
 * UTC.  The parameters are bound as text and cast by the database, whose
 * message a bad one gets (400).
 */
void
ts_http_metrics(struct MHD_Connection *conn, const char *nsp, const void *arg, TsHttpReply *reply)
{
	static const char *const names[3] = {"period", "start", "end"};
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3];
	char	   *json;

	for (int i = 0; i < 3; i++)
	{
		const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, names[i]);

		nulls[i] = 'n';
		values[i] = (Datum) 0;
		if (v == NULL || v[0] == '\0')
			continue;
		if (strlen(v) > TS_MAX_PARAM_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"%s\" is too long", names[i]),
					 errdetail("At most %d bytes are accepted.", TS_MAX_PARAM_LEN)));
		(void) pg_verifymbstr(v, (int) strlen(v), false);
		values[i] = CStringGetTextDatum(v);
		nulls[i] = ' ';
	}
	ts_http_set_local("TimeZone", "UTC");
	ts_http_select_row(psprintf("SELECT '[' || coalesce(string_agg(to_json(m)::text, ',' ORDER BY m.period_start), '') || ']'"
								" FROM (SELECT coalesce($3::timestamptz, now()) AS e) p,"
								" %s.get_troubleshooting_metrics_by_period(coalesce($1, 'day'),"
								"   coalesce($2::timestamptz, p.e - interval '30 days'), p.e) m", nsp),
					   3, types, values, nulls);
	json = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	reply->status = 200;
	reply->content_type = "application/json";
	appendStringInfoString(&reply->body, json ? json : "[]");
}
