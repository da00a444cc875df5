/*
 * api_realtime.h
 *	  GET /api/support/troubleshooting/realtime (api_realtime.c).
 */
#ifndef TS_HTTP_API_REALTIME_H
#define TS_HTTP_API_REALTIME_H

#include "http/reply.h"

extern void ts_http_realtime(struct MHD_Connection *conn, TsHttpReply *reply);

#endif							/* TS_HTTP_API_REALTIME_H */
