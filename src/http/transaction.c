/*
 * transaction.c
 *	  The short read-only transaction each data request runs in: as
 *	  troubleshooting.http_role (restricted), pg_catalog first on
 *	  search_path, under troubleshooting.http_statement_timeout, its errors
 *	  caught, logged when they are the server's, rolled back and answered as
 *	  JSON so that the worker goes on; and the query helpers the endpoints
 *	  use inside it.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "http/settings.h"
#include "http/transaction.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

/*
 * The status a database error becomes: 503 for a timeout, 403 for a missing
 * privilege of http_role, 400 for bad parameters and 404 for a missing
 * resource (per flags), else 500.
 */
static int
ts_http_error_status(int sqlerrcode, int flags)
{
	if (sqlerrcode == ERRCODE_QUERY_CANCELED)
		return 503;
	if (sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
		return 403;
	if ((flags & TS_HTTP_PARAMS) &&
		(ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_DATA_EXCEPTION ||
		 sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED))
		return 400;
	if ((flags & TS_HTTP_RESOURCE) && sqlerrcode == ERRCODE_NO_DATA_FOUND)
		return 404;
	return 500;
}

/* Sets a GUC for the current transaction only. */
void
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
ts_http_transaction(TsHttpWork work, const void *arg, struct MHD_Connection *conn,
					TsHttpReply *reply)
{
	Oid			nspid;
	Oid			roleid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	XactReadOnly = true;
	ts_http_set_local("search_path", "pg_catalog, pg_temp");

	nspid = ts_extension_schema_locked();	/* DROP EXTENSION waits for the request */
	roleid = get_role_oid(ts_http_role, true);
	if (!OidIsValid(nspid))
		ts_http_error(reply, 503, "extension \"troubleshooting\" is not installed",
					  psprintf("The HTTP endpoint serves database \"%s\" (troubleshooting.http_database); run CREATE EXTENSION troubleshooting there.",
							   ts_http_dbname()));
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

		work(conn, nsp, arg, reply);

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
void
ts_http_run(const char *label, TsHttpWork work, const void *arg, int flags,
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
		ts_http_transaction(work, arg, conn, reply);
	}
	PG_CATCH();
	{
		ErrorData  *e;
		int			status;

		disable_timeout(STATEMENT_TIMEOUT, false);
		QueryCancelPending = false; /* a timeout that fired late cancels nothing else */
		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		status = ts_http_error_status(e->sqlerrcode, flags);
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
void
ts_http_select_row(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			ret = SPI_execute_with_args(sql, nargs, types, values, nulls, true, 0);

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected result of \"%s\": %s", sql, SPI_result_code_string(ret));
}
