/*
 * reply.h
 *	  The answer to one HTTP request (reply.c): libmicrohttpd, the reply
 *	  being built, JSON errors, ETags and sending.
 */
#ifndef TS_HTTP_REPLY_H
#define TS_HTTP_REPLY_H

#include "postgres.h"

#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "lib/stringinfo.h"

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

extern void ts_http_error(TsHttpReply *reply, int status, const char *error,
						  const char *detail);
extern void ts_http_db_error(TsHttpReply *reply, int status, ErrorData *e);
extern void ts_http_append_request_counts(StringInfo buf);
extern void ts_http_set_etag(TsHttpReply *reply, const void *data, size_t len);
extern bool ts_http_etag_matches(struct MHD_Connection *conn, TsHttpReply *reply);
extern bool ts_http_not_modified(struct MHD_Connection *conn, TsHttpReply *reply,
								 const void *data, size_t len);
extern TS_MHD_RESULT ts_http_send(struct MHD_Connection *conn, TsHttpReply *reply);

#endif							/* TS_HTTP_REPLY_H */
