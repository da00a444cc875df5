/*
 * api_metrics.h
 *	  GET /api/support/troubleshooting/metrics (api_metrics.c): the work run
 *	  in the request's transaction.
 */
#ifndef TS_HTTP_API_METRICS_H
#define TS_HTTP_API_METRICS_H

#include "http/reply.h"

extern void ts_http_metrics(struct MHD_Connection *conn, const char *nsp, const void *arg,
							TsHttpReply *reply);

#endif							/* TS_HTTP_API_METRICS_H */
