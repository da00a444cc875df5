/*
 * router.h
 *	  libmicrohttpd's access handler (router.c).
 */
#ifndef TS_HTTP_ROUTER_H
#define TS_HTTP_ROUTER_H

#include "http/reply.h"

extern TS_MHD_RESULT ts_http_handler(void *cls, struct MHD_Connection *conn,
									 const char *url, const char *method,
									 const char *version, const char *upload_data,
									 size_t *upload_data_size, void **con_cls);

#endif							/* TS_HTTP_ROUTER_H */
