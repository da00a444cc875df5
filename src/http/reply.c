/*
 * reply.c
 *	  The answer to one HTTP request: JSON error bodies (also for a database
 *	  error), the ETag and the If-None-Match check, and handing the answer to
 *	  libmicrohttpd with its headers, counting the answers by status code
 *	  (troubleshooting_http_requests_total).
 */
#include "postgres.h"

#include "http/reply.h"

#include "common/hashfn.h"
#include "utils/elog.h"
#include "utils/json.h"

static uint64 ts_http_counts[600];	/* answers per status code, since the worker started */

/* Sets reply to a JSON error {"error": ..., "detail": ...}. */
void
ts_http_error(TsHttpReply *reply, int status, const char *error, const char *detail)
{
	reply->status = status;
	reply->content_type = "application/json";
	reply->etag[0] = '\0';
	reply->cache_control = NULL;	/* errors are never stored */
	reply->disposition = NULL;
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
void
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

/* Sets the reply's ETag to a quoted 64-bit hash of data. */
void
ts_http_set_etag(TsHttpReply *reply, const void *data, size_t len)
{
	uint64		h = hash_bytes_extended((const unsigned char *) data, (int) len, 0);

	snprintf(reply->etag, sizeof(reply->etag), "\"%08x%08x\"", (uint32) (h >> 32), (uint32) h);
}

/*
 * When the request's If-None-Match names the reply's ETag (or is *), makes
 * the reply a 304 without a body and returns true.
 */
bool
ts_http_etag_matches(struct MHD_Connection *conn, TsHttpReply *reply)
{
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);

	if (inm && (strcmp(inm, "*") == 0 || strstr(inm, reply->etag) != NULL))
	{
		reply->status = 304;
		reply->content_type = NULL;
		reply->disposition = NULL;
		resetStringInfo(&reply->body);
		return true;
	}
	return false;
}

/*
 * Sets the reply's ETag from a hash of data; when the request's
 * If-None-Match names it (or is *), makes the reply a 304 and returns true.
 */
bool
ts_http_not_modified(struct MHD_Connection *conn, TsHttpReply *reply, const void *data, size_t len)
{
	ts_http_set_etag(reply, data, len);
	return ts_http_etag_matches(conn, reply);
}

/* Hands the reply to libmicrohttpd (which copies it) and counts it. */
TS_MHD_RESULT
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
							reply->cache_control ? reply->cache_control : "no-store");
	if (reply->disposition)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, reply->disposition);
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
