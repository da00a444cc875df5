/*
 * auth.h
 *	  The bearer token check of the HTTP endpoint (auth.c).
 */
#ifndef TS_HTTP_AUTH_H
#define TS_HTTP_AUTH_H

#include "http/reply.h"

extern bool ts_http_authorized(struct MHD_Connection *conn);

#endif							/* TS_HTTP_AUTH_H */
