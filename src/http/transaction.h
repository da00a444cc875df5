/*
 * transaction.h
 *	  The transaction a data endpoint runs in and its query helpers
 *	  (transaction.c).
 */
#ifndef TS_HTTP_TRANSACTION_H
#define TS_HTTP_TRANSACTION_H

#include "http/reply.h"

/* How ts_http_run maps a query error to a status. */
#define TS_HTTP_PARAMS 0x01		/* data exceptions are the client's: 400 */
#define TS_HTTP_RESOURCE 0x02	/* no_data_found is a missing resource: 404 */

/*
 * A data endpoint's work: runs inside the request's read-only transaction,
 * as troubleshooting.http_role, with SPI connected; nsp is the extension's
 * schema, quoted; arg is what the router parsed from the URL (or NULL).
 * Errors it raises become JSON error replies.
 */
typedef void (*TsHttpWork) (struct MHD_Connection *conn, const char *nsp, const void *arg,
							TsHttpReply *reply);

extern void ts_http_run(const char *label, TsHttpWork work, const void *arg, int flags,
						struct MHD_Connection *conn, TsHttpReply *reply);
extern void ts_http_set_local(const char *name, const char *value);
extern void ts_http_select_row(const char *sql, int nargs, Oid *types, Datum *values,
							   const char *nulls);

#endif							/* TS_HTTP_TRANSACTION_H */
