/*
 * dashboard.h
 *	  GET /: the dashboard page (dashboard.c).
 */
#ifndef TS_HTTP_DASHBOARD_H
#define TS_HTTP_DASHBOARD_H

#include "http/reply.h"

extern void ts_http_dashboard(struct MHD_Connection *conn, TsHttpReply *reply);

#endif							/* TS_HTTP_DASHBOARD_H */
