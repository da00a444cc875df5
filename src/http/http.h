/*
 * http.h
 *	  The HTTP background worker as _PG_init sees it: its settings and its
 *	  registration.  src/http/internal.h has what its files share.
 */
#ifndef TS_HTTP_H
#define TS_HTTP_H

extern int	ts_http_port;
extern char *ts_http_database;
extern char *ts_http_listen_addresses;
extern char *ts_http_role;
extern char *ts_http_token;
extern int	ts_http_statement_timeout;
extern int	ts_http_cache_ms;

extern void ts_http_define_gucs(bool preloading);
extern void ts_http_register(void);
extern const char *ts_http_dbname(void);

#endif							/* TS_HTTP_H */
