/*
 * normalize.c
 *	  Validation and normalisation of configuration values by type (integer,
 *	  boolean, ratio, channel list, recipient list, failure count, text), for
 *	  the config table's row trigger in write.c.
 *
 * A value that does not parse as its key's type is an error; what is stored
 * is the canonical spelling.  Values quoted back in errors are short and
 * free of control characters.  Integer keys that become durations have a
 * largest value, recipient lists are checked as enqueueing checks them
 * (webhook URLs written as addresses also with the destination policy), and
 * URLs and free text are checked per key.
 */
#include "postgres.h"

#include "config/normalize.h"
#include "notify/channel_table.h"
#include "notify/enqueue/address.h"

#include <ctype.h>
#include <limits.h>

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"

/* The longest value a key may have, whatever its type. */
#define TS_CONFIG_VALUE_MAX 10000
/* The longest value quoted back in an error. */
#define TS_CONFIG_SHOWABLE_MAX 200
/* The longest llm_model. */
#define TS_CONFIG_MODEL_MAX 200

/*
 * Largest values of integer keys that become durations: beyond them the
 * arithmetic that uses them (timestamps, intervals, milliseconds) would
 * overflow, so a typo would make a maintenance job fail on every run.
 * Other integer keys go up to INT_MAX.
 */
typedef struct TsConfigIntMax
{
	const char *key;
	int			max;
	const char *unit;
} TsConfigIntMax;

static const TsConfigIntMax ts_config_int_max[] = {
	{"cleanup_interval_minutes", 10080, "minutes (a week)"},
	{"default_timeout_minutes", 525600, "minutes (a year)"},
	{"report_cache_ttl_minutes", 525600, "minutes (a year)"},
	{"max_session_duration_hours", 8760, "hours (a year)"},
	{"retention_days_sessions", 36500, "days (100 years)"},
	{"retention_days_notifications", 36500, "days (100 years)"},
	{"retention_days_reports", 36500, "days (100 years)"},
	{"retention_days_ml_training", 36500, "days (100 years)"},
	{"llm_timeout_seconds", 120, "seconds"},
};

/* True if a value can be quoted in an error: short, no control characters. */
static bool
ts_config_showable(const char *value)
{
	return strlen(value) <= TS_CONFIG_SHOWABLE_MAX && ts_control_char_problem(value) == NULL;
}

/* Reports a value that does not fit its key's type. */
static void
ts_config_bad_value(const char *key, const char *value, const char *expected,
					const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for configuration key \"%s\"", key),
			 ts_config_showable(value) ?
			 errdetail("Expected %s, got \"%s\".", expected, value) :
			 errdetail("Expected %s, got a value that is long or has control characters.", expected),
			 hint ? errhint("%s", hint) : 0));
}

/* Adds one channel name (trimmed, lower-cased) to buf, rejecting unknowns. */
static void
ts_channel_list_add(StringInfo buf, List **seen, const char *key,
					const char *value, const char *start, int len)
{
	char	   *name;
	ListCell   *lc;

	while (len > 0 && isspace((unsigned char) *start))
		start++, len--;
	while (len > 0 && isspace((unsigned char) start[len - 1]))
		len--;
	name = pnstrdup(start, len);
	for (char *p = name; *p; p++)
		*p = pg_tolower((unsigned char) *p);

	if (*name == '\0' || ts_channel_find(name) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for configuration key \"%s\"", key),
				 errdetail("Expected a list of notification channels, got \"%s\"; \"%s\" is not a channel.",
						   value, name),
				 errhint("Channels are %s, written as \"email,slack\" or [\"email\",\"slack\"].",
						 ts_channel_list_text())));
	foreach(lc, *seen)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return;				/* duplicates collapse */
	*seen = lappend(*seen, name);
	if (buf->len > 0)
		appendStringInfoChar(buf, ',');
	appendStringInfoString(buf, name);
}

/* Normalises a channel list written as "a,b" or as a JSON array of strings. */
static char *
ts_normalize_channel_list(const char *key, const char *value)
{
	StringInfoData buf;
	List	   *seen = NIL;
	const char *p = value;

	initStringInfo(&buf);
	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0')
		return buf.data;		/* no channel enabled */

	if (*p == '[')
	{
		p++;
		for (;;)
		{
			const char *start;

			while (isspace((unsigned char) *p))
				p++;
			if (*p == ']' && seen == NIL)
				break;
			if (*p != '"')
				ts_config_bad_value(key, value, "a JSON array of channel names",
									"Write it as [\"email\",\"slack\"].");
			start = ++p;
			while (*p && *p != '"' && *p != '\\')
				p++;
			if (*p != '"')
				ts_config_bad_value(key, value, "a JSON array of channel names",
									"Write it as [\"email\",\"slack\"].");
			ts_channel_list_add(&buf, &seen, key, value, start, p - start);
			p++;
			while (isspace((unsigned char) *p))
				p++;
			if (*p == ',')
			{
				p++;
				continue;
			}
			if (*p == ']')
				break;
			ts_config_bad_value(key, value, "a JSON array of channel names",
								"Write it as [\"email\",\"slack\"].");
		}
		p++;
		while (isspace((unsigned char) *p))
			p++;
		if (*p != '\0')
			ts_config_bad_value(key, value, "a JSON array of channel names",
								"Write it as [\"email\",\"slack\"].");
		return buf.data;
	}

	for (;;)
	{
		const char *comma = strchr(p, ',');
		int			len = comma ? comma - p : (int) strlen(p);

		ts_channel_list_add(&buf, &seen, key, value, p, len);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return buf.data;
}

/*
 * Normalises a list of "channel:recipient" items separated by commas (for
 * example "slack:#support,email:lead@example.com"); empty means nobody.
 */
static char *
ts_normalize_recipient_list(const char *key, const char *value)
{
	StringInfoData buf;
	char	   *copy = pstrdup(value);
	char	   *item;
	char	   *save;

	initStringInfo(&buf);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		char	   *colon;
		char	   *channel;
		char	   *recipient;
		const char *problem;

		while (isspace((unsigned char) *item))
			item++;
		colon = strchr(item, ':');
		if (colon == NULL)
			ts_config_bad_value(key, value, "a list of channel:recipient items",
								"Write it as slack:#support,email:lead@example.com.");
		channel = pnstrdup(item, colon - item);
		for (char *p = channel; *p; p++)
			*p = pg_tolower((unsigned char) *p);
		recipient = colon + 1;
		while (isspace((unsigned char) *recipient))
			recipient++;
		for (int n = strlen(recipient); n > 0 && isspace((unsigned char) recipient[n - 1]); n--)
			recipient[n - 1] = '\0';
		if (ts_channel_find(channel) == NULL || *recipient == '\0')
			ts_config_bad_value(key, value, "a list of channel:recipient items with known channels",
								psprintf("Channels are %s.", ts_channel_list_text()));
		/* what enqueueing would refuse must not wait here to fail a trigger later */
		problem = ts_recipient_problem(channel, recipient);
		if (problem == NULL && strcmp(channel, "webhook") == 0)
			problem = ts_destination_problem(recipient);
		if (problem)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for configuration key \"%s\"", key),
					 ts_config_showable(recipient) ?
					 errdetail("The %s recipient \"%s\" %s.", channel, recipient, problem) :
					 errdetail("The %s recipient %s.", channel, problem),
					 errhint("E-mail recipients are single addresses (name@example.com), SMS recipients E.164 numbers (+14155550100), webhook recipients http(s) URLs or subscription ids; none has control characters.")));
		appendStringInfo(&buf, "%s%s:%s", buf.len ? "," : "", channel, recipient);
	}
	return buf.data;
}

/*
 * Normalises a base URL (the open-tracking pixel's, the LLM endpoint's):
 * empty (off), or an http(s) URL with a host and without query or fragment,
 * stored without surrounding spaces and trailing slashes.  policy: the
 * server connects there, so the destination policy is asked too.
 */
static char *
ts_normalize_base_url(const char *key, const char *value, bool policy, const char *hint)
{
	char	   *url = pstrdup(value);
	char	   *end;
	char	   *scheme_end;

	while (isspace((unsigned char) *url))
		url++;
	end = url + strlen(url);
	while (end > url && isspace((unsigned char) end[-1]))
		*--end = '\0';
	/* trailing slashes go, but not those of "https://" itself */
	scheme_end = strstr(url, "://");
	while (end > (scheme_end ? scheme_end + 3 : url) && end[-1] == '/')
		*--end = '\0';
	if (*url == '\0')
		return url;
	ts_check_http_url(url, false, policy, psprintf("invalid value for configuration key \"%s\"", key),
					  "Expected an http(s) URL or nothing; the value", hint);
	return url;
}

/*
 * Normalises a ratio: a decimal number from 0 to 1 (digits, at most one
 * point, a + at most; no minus, exponent or hexadecimal), stored without surrounding
 * spaces, leading or trailing zeros ("0.50" is 0.5, ".5" is 0.5).
 */
static char *
ts_normalize_ratio(const char *key, const char *value)
{
	const char *p = value;
	const char *int_start;
	const char *int_end;
	const char *frac_start = NULL;
	const char *frac_end = NULL;
	StringInfoData buf;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '+')
		p++;
	int_start = p;
	while (isdigit((unsigned char) *p))
		p++;
	int_end = p;
	if (*p == '.')
	{
		frac_start = ++p;
		while (isdigit((unsigned char) *p))
			p++;
		frac_end = p;
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0' || (int_end == int_start && (frac_start == NULL || frac_end == frac_start)))
		ts_config_bad_value(key, value, "a number from 0 to 1",
							strchr(value, '-') ? "Ratios cannot be negative." :
							"Write it in decimal, such as 0.25.");
	while (int_start < int_end - 1 && *int_start == '0')
		int_start++;			/* leading zeros */
	while (frac_start && frac_end > frac_start && frac_end[-1] == '0')
		frac_end--;				/* trailing zeros */
	initStringInfo(&buf);
	if (int_end == int_start)
		appendStringInfoChar(&buf, '0');
	else
		appendBinaryStringInfo(&buf, int_start, int_end - int_start);
	if (frac_start && frac_end > frac_start)
	{
		appendStringInfoChar(&buf, '.');
		appendBinaryStringInfo(&buf, frac_start, frac_end - frac_start);
	}
	if (strcmp(buf.data, "1") != 0 && strncmp(buf.data, "0", 1) != 0)
		ts_config_bad_value(key, value, "a number from 0 to 1", NULL);
	return buf.data;
}

/*
 * Normalises free text: no control characters, at most maxlen bytes, and
 * (need_value) not empty once surrounding spaces are trimmed.
 */
static char *
ts_normalize_plain_text(const char *key, const char *value, int maxlen, bool need_value)
{
	char	   *text = pstrdup(value);
	char	   *end;

	if (ts_control_char_problem(text) != NULL)
		ts_config_bad_value(key, value, "text without control characters",
							"Remove line breaks, tabs and other control characters.");
	while (*text == ' ')
		text++;
	end = text + strlen(text);
	while (end > text && end[-1] == ' ')
		*--end = '\0';
	if (end - text > maxlen)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for configuration key \"%s\"", key),
				 errdetail("The value has %d bytes; the limit is %d.", (int) (end - text), maxlen)));
	if (need_value && *text == '\0')
		ts_config_bad_value(key, value, "a value", "Set it to NULL to go back to the default.");
	return text;
}

/* Parses a non-negative int32 written in decimal; false if it is not one. */
bool
ts_parse_count(const char *value, int *result)
{
	const char *p = value;
	int64		n = 0;
	bool		digits = false;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '+')
		p++;
	while (isdigit((unsigned char) *p))
	{
		n = n * 10 + (*p++ - '0');
		if (n > INT_MAX)
			return false;
		digits = true;
	}
	while (isspace((unsigned char) *p))
		p++;
	if (!digits || *p != '\0')
		return false;
	*result = (int) n;
	return true;
}

/*
 * Checks value against the key's type and returns its canonical spelling
 * (NULL stays NULL: it means "use the default").
 */
char *
ts_config_normalize(const char *key, const char *type, const char *value)
{
	if (value == NULL)
		return NULL;
	if (strlen(value) > TS_CONFIG_VALUE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for configuration key \"%s\"", key),
				 errdetail("The value has %d bytes; the limit is %d.", (int) strlen(value),
						   TS_CONFIG_VALUE_MAX)));

	if (strcmp(type, "integer") == 0)
	{
		int			n;

		if (!ts_parse_count(value, &n))
			ts_config_bad_value(key, value, "a non-negative integer",
								strchr(value, '-') ? "Counts and durations cannot be negative." : NULL);
		for (size_t i = 0; i < lengthof(ts_config_int_max); i++)
			if (strcmp(key, ts_config_int_max[i].key) == 0 && n > ts_config_int_max[i].max)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for configuration key \"%s\"", key),
						 errdetail("%d is above the largest value, %d %s.", n,
								   ts_config_int_max[i].max, ts_config_int_max[i].unit),
						 errhint("0 turns it off where the key's description says so.")));
		return psprintf("%d", n);
	}
	if (strcmp(type, "boolean") == 0)
	{
		bool		b;

		if (!parse_bool(value, &b))
			ts_config_bad_value(key, value, "a boolean",
								"Use true or false.");
		return pstrdup(b ? "true" : "false");
	}
	if (strcmp(type, "channel_list") == 0)
		return ts_normalize_channel_list(key, value);
	if (strcmp(type, "recipient_list") == 0)
		return ts_normalize_recipient_list(key, value);
	if (strcmp(type, "failure_count") == 0)
	{
		if (pg_strcasecmp(value, "total") != 0 && pg_strcasecmp(value, "consecutive") != 0)
			ts_config_bad_value(key, value, "total or consecutive", NULL);
		return pg_strcasecmp(value, "total") == 0 ? pstrdup("total") : pstrdup("consecutive");
	}
	if (strcmp(type, "ratio") == 0)
		return ts_normalize_ratio(key, value);
	if (strcmp(type, "text") == 0)
	{
		if (strcmp(key, "email_open_tracking_url") == 0)
			return ts_normalize_base_url(key, value, false,
										 "The pixel is <url>/<token>, for example https://track.example.com/open; '' turns it off.");
		if (strcmp(key, "llm_base_url") == 0)
			return ts_normalize_base_url(key, value, true,
										 "Give the API's base URL, such as https://api.openai.com/v1 (requests go to <url>/chat/completions).");
		if (strcmp(key, "llm_model") == 0)
			return ts_normalize_plain_text(key, value, TS_CONFIG_MODEL_MAX, true);
		return ts_normalize_plain_text(key, value, TS_CONFIG_VALUE_MAX, false);
	}

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown value type \"%s\" for configuration key \"%s\"",
					type, key)));
	return NULL;				/* keep compiler quiet */
}
