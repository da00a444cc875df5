/*
 * http.h
 *	  The HTTP background worker as _PG_init sees it: the definition of its
 *	  settings (settings.c) and its registration (server.c).  Each file of
 *	  src/http/ has its own header for what the others use.
 */
#ifndef TS_HTTP_H
#define TS_HTTP_H

#include "postgres.h"

extern void ts_http_define_gucs(bool preloading);
extern void ts_http_register(void);

#endif							/* TS_HTTP_H */
