/*
 * prometheus.h
 *	  GET /metrics (prometheus.c): the work run in the request's transaction.
 */
#ifndef TS_HTTP_PROMETHEUS_H
#define TS_HTTP_PROMETHEUS_H

#include "http/reply.h"

extern void ts_http_prometheus(struct MHD_Connection *conn, const char *nsp, const void *arg,
							   TsHttpReply *reply);

#endif							/* TS_HTTP_PROMETHEUS_H */
