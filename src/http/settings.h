/*
 * settings.h
 *	  The HTTP worker's settings (settings.c): the troubleshooting.http_*
 *	  variables, a parsed listen address, and the database it serves.
 */
#ifndef TS_HTTP_SETTINGS_H
#define TS_HTTP_SETTINGS_H

#include "postgres.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>

/* Listen addresses troubleshooting.http_listen_addresses may list. */
#define TS_HTTP_MAX_ADDRESSES 8

/* One listen address, parsed. */
typedef struct TsHttpAddress
{
	struct sockaddr_storage ss;
	char		text[INET6_ADDRSTRLEN + 1];
	bool		loopback;
} TsHttpAddress;

extern int	ts_http_port;
extern char *ts_http_database;
extern char *ts_http_listen_addresses;
extern char *ts_http_role;
extern char *ts_http_token;
extern int	ts_http_statement_timeout;
extern int	ts_http_cache_ms;
extern int	ts_http_request_timeout;

extern bool ts_http_parse_addresses(const char *list, TsHttpAddress *out, int *n,
									char *bad, size_t badlen);
extern const char *ts_http_dbname(void);

#endif							/* TS_HTTP_SETTINGS_H */
