/*
 * internal.h
 *	  What the HTTP worker's files share: libmicrohttpd, the reply being
 *	  built for a request, the request handler and the endpoint builders.
 */
#ifndef TS_HTTP_INTERNAL_H
#define TS_HTTP_INTERNAL_H

#include "postgres.h"

#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "lib/stringinfo.h"

#include "http/http.h"

/* Access handlers return enum MHD_Result from libmicrohttpd 0.9.71 on. */
#if MHD_VERSION >= 0x00097100
#define TS_MHD_RESULT enum MHD_Result
#else
#define TS_MHD_RESULT int
#endif

/* The answer to one request, built before it is handed to libmicrohttpd. */
typedef struct TsHttpReply
{
	int			status;
	const char *content_type;	/* NULL: no Content-Type (304) */
	StringInfoData body;
	char		etag[24];		/* quoted entity tag, or empty */
	const char *allow;			/* Allow header (405), or NULL */
	const char *cache_control;	/* Cache-Control header; NULL: no-store */
	const char *disposition;	/* Content-Disposition header, or NULL */
	bool		challenge;		/* add WWW-Authenticate (401) */
} TsHttpReply;

/*
 * A data endpoint's work: runs inside the request's read-only transaction,
 * as troubleshooting.http_role, with SPI connected; nsp is the extension's
 * schema, quoted; arg is what the router parsed from the URL (or NULL).
 * Errors it raises become JSON error replies.
 */
typedef void (*TsHttpWork) (struct MHD_Connection *conn, const char *nsp, const void *arg,
							TsHttpReply *reply);

/* endpoints.c */
extern TS_MHD_RESULT ts_http_handler(void *cls, struct MHD_Connection *conn,
									 const char *url, const char *method,
									 const char *version, const char *upload_data,
									 size_t *upload_data_size, void **con_cls);
extern void ts_http_error(TsHttpReply *reply, int status, const char *error,
						  const char *detail);
extern void ts_http_append_request_counts(StringInfo buf);
extern void ts_http_cache_drop(void);
extern bool ts_http_not_modified(struct MHD_Connection *conn, TsHttpReply *reply,
								 const void *data, size_t len);

/* dashboard.c */
extern void ts_http_dashboard(struct MHD_Connection *conn, TsHttpReply *reply);

/* prometheus.c */
extern void ts_http_prometheus(struct MHD_Connection *conn, const char *nsp, const void *arg,
							   TsHttpReply *reply);

#endif							/* TS_HTTP_INTERNAL_H */
