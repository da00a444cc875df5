/*
 * endpoints.c
 *	  The HTTP worker's request handling, called by libmicrohttpd on the
 *	  worker's own thread: bearer token, methods, routing, JSON errors and
 *	  response headers; the short read-only transaction each data request
 *	  runs in (as troubleshooting.http_role, under a statement timeout, its
 *	  errors caught and answered so the worker goes on); and the two JSON
 *	  endpoints, realtime (with its ETag) and metrics by period.
 */
#include "postgres.h"

#include "compat.h"
#include "extschema.h"
#include "http/internal.h"
#include "maintenance.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#define TS_PATH_REALTIME "/api/support/troubleshooting/realtime"
#define TS_PATH_METRICS "/api/support/troubleshooting/metrics"
#define TS_PATH_PROMETHEUS "/metrics"
#define TS_MAX_PARAM_LEN 200

static uint64 ts_http_counts[600];	/* answers per status code, since the worker started */

/* Sets reply to a JSON error {"error": ..., "detail": ...}. */
void
ts_http_error(TsHttpReply *reply, int status, const char *error, const char *detail)
{
	reply->status = status;
	reply->content_type = "application/json";
	reply->etag[0] = '\0';
	resetStringInfo(&reply->body);
	appendStringInfoString(&reply->body, "{\"error\": ");
	escape_json(&reply->body, error);
	appendStringInfoString(&reply->body, ", \"detail\": ");
	if (detail)
		escape_json(&reply->body, detail);
	else
		appendStringInfoString(&reply->body, "null");
	appendStringInfoChar(&reply->body, '}');
}

/* Sets reply to a JSON error carrying a database error (message, detail, hint, SQLSTATE). */
static void
ts_http_db_error(TsHttpReply *reply, int status, ErrorData *e)
{
	ts_http_error(reply, status, e->message ? e->message : "unknown error", e->detail);
	reply->body.len--;			/* reopen the object */
	reply->body.data[reply->body.len] = '\0';
	if (e->hint)
	{
		appendStringInfoString(&reply->body, ", \"hint\": ");
		escape_json(&reply->body, e->hint);
	}
	appendStringInfo(&reply->body, ", \"sqlstate\": \"%s\"}", unpack_sql_state(e->sqlerrcode));
}

/* Appends troubleshooting_http_requests_total samples, one per status code seen. */
void
ts_http_append_request_counts(StringInfo buf)
{
	for (int code = 100; code < 600; code++)
		if (ts_http_counts[code] > 0)
			appendStringInfo(buf, "troubleshooting_http_requests_total{code=\"%d\"} " UINT64_FORMAT "\n",
							 code, ts_http_counts[code]);
}

/* Compares a presented token with the configured one in time independent of where they differ. */
static bool
ts_http_token_equal(const char *given, size_t given_len, const char *token)
{
	size_t		len = strlen(token);
	volatile unsigned char diff = (given_len != len);

	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char) token[i] ^ (unsigned char) (i < given_len ? given[i] : 0);
	return diff == 0;
}

/* True when no token is configured or the request carries "Authorization: Bearer <token>". */
static bool
ts_http_authorized(struct MHD_Connection *conn)
{
	const char *h;
	size_t		len;

	if (ts_http_token == NULL || ts_http_token[0] == '\0')
		return true;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || pg_strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	len = strlen(h);
	while (len > 0 && h[len - 1] == ' ')
		len--;
	return ts_http_token_equal(h, len, ts_http_token);
}

/* The status a database error becomes: 503 for a timeout, 400 for bad parameters, else 500. */
static int
ts_http_error_status(int sqlerrcode, bool takes_params)
{
	if (sqlerrcode == ERRCODE_QUERY_CANCELED)
		return 503;
	if (takes_params &&
		(ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_DATA_EXCEPTION ||
		 sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED))
		return 400;
	return 500;
}

/* Sets a GUC for the current transaction only. */
static void
ts_http_set_local(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
}

/*
 * One request's transaction: read only, pg_catalog first on search_path;
 * 503 without the extension or a usable http_role; else work runs as the
 * role (restricted, as in maintenance commands) under the statement timeout.
 */
static void
ts_http_transaction(TsHttpWork work, struct MHD_Connection *conn, TsHttpReply *reply)
{
	Oid			nspid;
	Oid			roleid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	XactReadOnly = true;
	ts_http_set_local("search_path", "pg_catalog, pg_temp");

	nspid = ts_extension_schema(true);
	roleid = get_role_oid(ts_http_role, true);
	if (!OidIsValid(nspid))
		ts_http_error(reply, 503, "extension \"troubleshooting\" is not installed",
					  psprintf("The HTTP endpoint serves database \"%s\" (troubleshooting.database); run CREATE EXTENSION troubleshooting there.",
							   ts_database));
	else if (!OidIsValid(roleid))
		ts_http_error(reply, 503, psprintf("role \"%s\" does not exist", ts_http_role),
					  "Create the role named by troubleshooting.http_role, or set it to an existing one and reload.");
	else if (superuser_arg(roleid))
		ts_http_error(reply, 503, psprintf("role \"%s\" is a superuser", ts_http_role),
					  "troubleshooting.http_role must name a role without superuser rights.");
	else
	{
		const char *nsp = quote_identifier(get_namespace_name(nspid));
		Oid			saved_user;
		int			saved_sec;

		GetUserIdAndSecContext(&saved_user, &saved_sec);
		SetUserIdAndSecContext(roleid, saved_sec | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		enable_timeout_after(STATEMENT_TIMEOUT, ts_http_statement_timeout);

		work(conn, nsp, reply);

		disable_timeout(STATEMENT_TIMEOUT, false);
		SPI_finish();
		PopActiveSnapshot();
		SetUserIdAndSecContext(saved_user, saved_sec);
	}
	CommitTransactionCommand();
}

/*
 * Runs a data endpoint in its own transaction; a database error is logged
 * (5xx only), rolled back and answered as JSON, and the worker goes on.
 */
static void
ts_http_run(const char *label, TsHttpWork work, bool takes_params,
			struct MHD_Connection *conn, TsHttpReply *reply)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (ts_http_role == NULL || ts_http_role[0] == '\0')
	{
		ts_http_error(reply, 503, "troubleshooting.http_role is not set",
					  "Set troubleshooting.http_role to a role that may read the metrics (not a superuser) and reload.");
		return;
	}
	pgstat_report_activity(STATE_RUNNING, label);
	PG_TRY();
	{
		ts_http_transaction(work, conn, reply);
	}
	PG_CATCH();
	{
		ErrorData  *e;
		int			status;

		disable_timeout(STATEMENT_TIMEOUT, false);
		QueryCancelPending = false; /* a timeout that fired late cancels nothing else */
		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		status = ts_http_error_status(e->sqlerrcode, takes_params);
		if (status >= 500)
			EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(cxt);
		ts_http_db_error(reply, status, e);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Runs a one-row, one-or-more-column query of ours; errors out on anything else. */
static void
ts_http_select_row(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			ret = SPI_execute_with_args(sql, nargs, types, values, nulls, true, 0);

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected result of \"%s\": %s", sql, SPI_result_code_string(ret));
}

/*
 * Sets the reply's ETag from a hash of data; when the request's
 * If-None-Match names it (or is *), makes the reply a 304 and returns true.
 */
bool
ts_http_not_modified(struct MHD_Connection *conn, TsHttpReply *reply, const void *data, size_t len)
{
	uint64		h = hash_bytes_extended((const unsigned char *) data, (int) len, 0);
	const char *inm;

	snprintf(reply->etag, sizeof(reply->etag), "\"%08x%08x\"", (uint32) (h >> 32), (uint32) h);
	inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && (strcmp(inm, "*") == 0 || strstr(inm, reply->etag) != NULL))
	{
		reply->status = 304;
		reply->content_type = NULL;
		return true;
	}
	return false;
}

/*
 * GET /api/support/troubleshooting/realtime: the text of
 * get_troubleshooting_realtime_metrics(), as is.  The ETag hashes the
 * document without its timestamp, so a poll answers 304 until something
 * but the clock changed.
 */
static void
ts_http_realtime(struct MHD_Connection *conn, const char *nsp, TsHttpReply *reply)
{
	char	   *doc;
	char	   *stable;

	ts_http_select_row(psprintf("SELECT r.doc::text, (r.doc OPERATOR(pg_catalog.-) 'timestamp'::text)::text"
								" FROM %s.get_troubleshooting_realtime_metrics() AS r(doc)", nsp),
					   0, NULL, NULL, NULL);
	doc = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	stable = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (doc == NULL || stable == NULL)
		elog(ERROR, "get_troubleshooting_realtime_metrics() returned null");

	if (ts_http_not_modified(conn, reply, stable, strlen(stable)))
		return;
	reply->status = 200;
	reply->content_type = "application/json";
	appendStringInfoString(&reply->body, doc);
}

/*
 * GET /api/support/troubleshooting/metrics?period=&start=&end=: the rows of
 * get_troubleshooting_metrics_by_period() as a JSON array of objects, in
 * UTC.  The parameters are bound as text and cast by the database, whose
 * message a bad one gets (400).
 */
static void
ts_http_metrics(struct MHD_Connection *conn, const char *nsp, TsHttpReply *reply)
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

/* Decides the answer to one request (everything but sending it). */
static void
ts_http_route(struct MHD_Connection *conn, const char *url, const char *method, TsHttpReply *reply)
{
	const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (!ts_http_authorized(conn))
	{
		ts_http_error(reply, 401, "unauthorized",
					  "Send the header \"Authorization: Bearer <troubleshooting.http_token>\".");
		reply->challenge = true;
	}
	else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
	{
		ts_http_error(reply, 405, "method not allowed",
					  "The endpoints answer GET and HEAD only.");
		reply->allow = "GET, HEAD";
	}
	else if ((length && strcmp(length, "0") != 0) ||
			 MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		ts_http_error(reply, 400, "request bodies are not accepted", NULL);
	else if (strcmp(url, "/") == 0)
		ts_http_dashboard(conn, reply);
	else if (strcmp(url, TS_PATH_REALTIME) == 0)
		ts_http_run("GET " TS_PATH_REALTIME, ts_http_realtime, false, conn, reply);
	else if (strcmp(url, TS_PATH_METRICS) == 0)
		ts_http_run("GET " TS_PATH_METRICS, ts_http_metrics, true, conn, reply);
	else if (strcmp(url, TS_PATH_PROMETHEUS) == 0)
		ts_http_run("GET " TS_PATH_PROMETHEUS, ts_http_prometheus, false, conn, reply);
	else
		ts_http_error(reply, 404, "not found",
					  "The endpoints are / (the dashboard), " TS_PATH_REALTIME ", " TS_PATH_METRICS " and " TS_PATH_PROMETHEUS ".");
}

/* Hands the reply to libmicrohttpd (which copies it) and counts it. */
static TS_MHD_RESULT
ts_http_send(struct MHD_Connection *conn, TsHttpReply *reply)
{
	struct MHD_Response *resp;
	TS_MHD_RESULT ret;

#if MHD_VERSION >= 0x00097701
	resp = MHD_create_response_from_buffer_copy(reply->body.len, reply->body.data);
#else
	resp = MHD_create_response_from_buffer(reply->body.len, reply->body.data, MHD_RESPMEM_MUST_COPY);
#endif
	if (resp == NULL)
		return MHD_NO;			/* out of memory: libmicrohttpd closes the connection */
	if (reply->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (reply->etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, reply->etag);
	if (reply->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
	if (reply->challenge)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
								"Bearer realm=\"troubleshooting\"");
	ret = MHD_queue_response(conn, (unsigned int) reply->status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES && reply->status >= 100 && reply->status < 600)
		ts_http_counts[reply->status]++;
	return ret;
}

/*
 * libmicrohttpd's access handler: answers each request on its first call,
 * in a memory context of its own.  No error may escape into libmicrohttpd.
 */
TS_MHD_RESULT
ts_http_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				const char *version, const char *upload_data, size_t *upload_data_size,
				void **con_cls)
{
	MemoryContext reqcxt;
	MemoryContext old;
	TsHttpReply *reply;
	TS_MHD_RESULT ret;

	if (*upload_data_size > 0)
	{
		/* a body after the answer was queued (405 or 400): dropped */
		*upload_data_size = 0;
		return MHD_YES;
	}
	reqcxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting http request",
								   ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(reqcxt);
	reply = palloc0(sizeof(TsHttpReply));
	initStringInfo(&reply->body);
	PG_TRY();
	{
		ts_http_route(conn, url, method, reply);
	}
	PG_CATCH();
	{
		/* not a query error (those are answered in ts_http_run): out of memory or a bug */
		MemoryContextSwitchTo(reqcxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(reqcxt);
		initStringInfo(&reply->body);
		ts_http_error(reply, 500, "internal error", "See the server log.");
	}
	PG_END_TRY();
	ret = ts_http_send(conn, reply);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(reqcxt);
	return ret;
}
