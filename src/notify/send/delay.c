/*
 * delay.c
 *	  Retry delays of the dispatcher: clamped to retry_max_delay, the
 *	  exponential backoff with jitter, and the waits servers ask for
 *	  (Retry-After in seconds or as an HTTP-date, Discord's retry_after).
 */
#include "postgres.h"

#include "compat.h"
#include "notify/send/delay.h"
#include "notify/send/settings.h"

#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <time.h>

/* A retry delay within [0, retry_max_delay] milliseconds. */
int64
ts_clamp_delay_ms(double ms)
{
	if (isnan(ms) || ms <= 0)
		return 0;
	if (ms >= (double) ts_retry_max_delay)
		return ts_retry_max_delay;
	return (int64) ms;
}

/*
 * A Retry-After value (delay-seconds, possibly fractional or absurd, or an
 * HTTP-date) as milliseconds within [0, retry_max_delay]; 0 when it is
 * negative, in the past or not understood.
 */
int64
ts_retry_after_ms(const char *v)
{
	char	   *end;
	double		secs;
	time_t		when;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '\0')
		return 0;
	if (isdigit((unsigned char) *v) || *v == '-' || *v == '+' || *v == '.')
	{
		secs = strtod(v, &end);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (end == v || *end != '\0' || isnan(secs))
			return 0;
		return ts_clamp_delay_ms(secs * 1000.0);
	}
	when = curl_getdate(v, NULL);
	if (when == (time_t) -1)
		return 0;
	return ts_clamp_delay_ms(((double) when - (double) time(NULL)) * 1000.0);
}

/* Reads Discord's retry_after (seconds, may be fractional) from a 429 body. */
int64
ts_discord_retry_after_ms(const char *body)
{
	const char *p = strstr(body, "\"retry_after\"");

	if (p == NULL)
		return 0;
	p += 13;
	while (*p == ' ' || *p == ':')
		p++;
	return ts_clamp_delay_ms(strtod(p, NULL) * 1000.0);
}

/* Exponential backoff with jitter for the given attempt number. */
int64
ts_backoff_ms(int attempts)
{
	double		d = (double) ts_retry_base_delay * pow(2.0, Max(attempts - 1, 0));

	return ts_clamp_delay_ms(Min(d, (double) ts_retry_max_delay) * (0.5 + 0.5 * ts_random_double()));
}
