/*
 * settings.c
 *	  The HTTP worker's settings (troubleshooting.http_*): their variables,
 *	  their definition, the parsing of troubleshooting.http_listen_addresses
 *	  (also its check hook) and the database the endpoint serves.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http/http.h"
#include "http/settings.h"
#include "worker/launcher.h"

#include "utils/guc.h"

int			ts_http_port = 0;
char	   *ts_http_database = NULL;
char	   *ts_http_listen_addresses = NULL;
char	   *ts_http_role = NULL;
char	   *ts_http_token = NULL;
int			ts_http_statement_timeout = 5000;
int			ts_http_cache_ms = 1000;
int			ts_http_request_timeout = 30000;

/* Parses one IPv4 or IPv6 literal into a; false when it is neither. */
static bool
ts_http_parse_address(const char *text, TsHttpAddress *a)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *) &a->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) &a->ss;

	memset(a, 0, sizeof(*a));
	strlcpy(a->text, text, sizeof(a->text));
	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
	{
		v4->sin_family = AF_INET;
		a->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
		return true;
	}
	if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
	{
		v6->sin6_family = AF_INET6;
		a->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
			(IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127);
		return true;
	}
	return false;
}

/*
 * Splits a comma-separated list of IP literals into out (at most
 * TS_HTTP_MAX_ADDRESSES); on a bad item returns false with it in bad.
 * Allocates nothing, so the GUC check hook can use it.
 */
bool
ts_http_parse_addresses(const char *list, TsHttpAddress *out, int *n, char *bad, size_t badlen)
{
	const char *p = list;

	*n = 0;
	bad[0] = '\0';
	for (;;)
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		char		item[INET6_ADDRSTRLEN + 1];

		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (*n >= TS_HTTP_MAX_ADDRESSES)
		{
			strlcpy(bad, "too many addresses", badlen);
			return false;
		}
		if (len == 0 || len >= sizeof(item))
		{
			strlcpy(bad, len == 0 ? "an empty item" : "an item too long for an address", badlen);
			return false;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (!ts_http_parse_address(item, &out[*n]))
		{
			snprintf(bad, badlen, "\"%s\"", item);
			return false;
		}
		(*n)++;
		if (end == NULL)
			return true;
		p = end + 1;
	}
}

/* GUC check hook: troubleshooting.http_listen_addresses must parse. */
static bool
ts_http_check_addresses(char **newval, void **extra, GucSource source)
{
	TsHttpAddress addrs[TS_HTTP_MAX_ADDRESSES];
	int			n;
	char		bad[64] = "";

	if (*newval == NULL || !ts_http_parse_addresses(*newval, addrs, &n, bad, sizeof(bad)))
	{
		GUC_check_errdetail("Found %s; expected a comma-separated list of at most %d IPv4 or IPv6 addresses.",
							*newval ? bad : "nothing", TS_HTTP_MAX_ADDRESSES);
		return false;
	}
	return true;
}

/* Defines the HTTP settings (only while preloading, like troubleshooting.database). */
void
ts_http_define_gucs(bool preloading)
{
	if (!preloading)
		return;
	DefineCustomStringVariable("troubleshooting.http_database",
							   "Database the HTTP endpoint serves (empty = the first one troubleshooting.database lists, or postgres).",
							   NULL, &ts_http_database, "", PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.http_port",
							"TCP port of the HTTP endpoint (0 = no endpoint).", NULL,
							&ts_http_port, 0, 0, 65535, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("troubleshooting.http_listen_addresses",
							   "Comma-separated IP addresses the HTTP endpoint listens on.", NULL,
							   &ts_http_listen_addresses, "127.0.0.1,::1", PGC_POSTMASTER, 0,
							   ts_http_check_addresses, NULL, NULL);
	DefineCustomStringVariable("troubleshooting.http_role",
							   "Role the HTTP endpoint runs its queries as (empty = data endpoints answer 503).",
							   "Must exist and must not be a superuser.",
							   &ts_http_role, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("troubleshooting.http_token",
							   "Bearer token every HTTP request must carry (empty = none).",
							   "Required when the endpoint listens on a non-loopback address.",
							   &ts_http_token, "", PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.http_statement_timeout",
							"Time one HTTP request's queries may take.", NULL,
							&ts_http_statement_timeout, 5000, 1, 600000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.http_cache_ms",
							"Time the HTTP endpoint answers realtime requests with the document it last computed (0 = every request queries).",
							NULL,
							&ts_http_cache_ms, 1000, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.http_request_timeout",
							"Longest time one HTTP request may take, from its first byte to the end of its answer.",
							"The connection is closed when it runs longer, however steadily the client sends.",
							&ts_http_request_timeout, 30000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/*
 * The database the HTTP endpoint serves: troubleshooting.http_database,
 * else the first database troubleshooting.database lists, else postgres.
 */
const char *
ts_http_dbname(void)
{
	static char name[NAMEDATALEN];
	List	   *names;

	if (ts_http_database != NULL && ts_http_database[0] != '\0')
		return ts_http_database;
	names = ts_database_names();
	strlcpy(name, names != NIL ? (char *) linitial(names) : "postgres", sizeof(name));
	return name;
}
