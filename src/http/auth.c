/*
 * auth.c
 *	  The HTTP endpoint's authentication: the bearer token
 *	  (troubleshooting.http_token) a request must carry, compared in constant
 *	  time.
 */
#include "postgres.h"

#include "http/auth.h"
#include "http/settings.h"

/* Compares a presented token with the configured one in time independent of where they differ. */
static bool
ts_http_token_equal(const char *given, size_t given_len, const char *token)
{
	size_t		len = strlen(token);
	volatile unsigned char diff = (given_len != len);

	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char) token[i] ^ (unsigned char) (i < given_len ? given[i] : 0);
	return diff == 0;
}

/* True when no token is configured or the request carries "Authorization: Bearer <token>". */
bool
ts_http_authorized(struct MHD_Connection *conn)
{
	const char *h;
	size_t		len;

	if (ts_http_token == NULL || ts_http_token[0] == '\0')
		return true;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || pg_strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	len = strlen(h);
	while (len > 0 && h[len - 1] == ' ')
		len--;
	return ts_http_token_equal(h, len, ts_http_token);
}
