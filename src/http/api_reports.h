/*
 * api_reports.h
 *	  GET /api/support/troubleshooting/reports/<id>.<format> (api_reports.c).
 */
#ifndef TS_HTTP_API_REPORTS_H
#define TS_HTTP_API_REPORTS_H

#include "http/reply.h"

extern void ts_http_report(struct MHD_Connection *conn, const char *name, TsHttpReply *reply);

#endif							/* TS_HTTP_API_REPORTS_H */
