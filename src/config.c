/*
 * config.c
 *	  Central configuration (support_troubleshooting_config): validation and
 *	  normalisation of values by type, the per-backend cache behind the typed
 *	  getters, change history, and the SQL functions get/set.
 *
 * Every write path (the SQL functions, a direct UPDATE or INSERT, COPY during
 * a restore) goes through the row trigger ts_config_guard, so a value that
 * does not parse as its key's type never reaches the table.  The cache is
 * dropped through a relcache invalidation that the trigger sends for the
 * config table: other backends see it when the writer commits, the writer
 * itself at its next command.
 */
#include "postgres.h"

#include "compat.h"
#include "config.h"
#include "extschema.h"
#include "notify/address.h"

#include <ctype.h>
#include <limits.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#define TS_CONFIG_TABLE "support_troubleshooting_config"
#define TS_CONFIG_HISTORY_TABLE "support_troubleshooting_config_history"

/* The longest value a key may have, whatever its type. */
#define TS_CONFIG_VALUE_MAX 10000
/* The longest value quoted back in an error. */
#define TS_CONFIG_SHOWABLE_MAX 200
/* The longest llm_model. */
#define TS_CONFIG_MODEL_MAX 200

/* The notification channels a channel_list may name. */
static const char *const ts_channels[] = {
	"email", "sms", "slack", "teams", "discord", "webhook"
};

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

typedef struct TsConfigEntry
{
	char	   *key;
	char	   *value;			/* effective value: stored, else default */
	char	   *type;
} TsConfigEntry;

static MemoryContext ts_config_context = NULL;
static TsConfigEntry *ts_config_entries = NULL;
static int	ts_config_nentries = 0;
static bool ts_config_valid = false;
static Oid	ts_config_relid = InvalidOid;
static uint64 ts_config_generation = 0;

/* Top transaction that wrote the config table; it reads through the cache. */
static TransactionId ts_config_writer_xid = InvalidTransactionId;

/* Set while an INSERT of an existing key is merged into that row. */
static bool ts_config_merging = false;

PG_FUNCTION_INFO_V1(get_troubleshooting_config);
PG_FUNCTION_INFO_V1(set_troubleshooting_config);
PG_FUNCTION_INFO_V1(ts_config_guard);
PG_FUNCTION_INFO_V1(ts_config_record_history);

/* Drops the cache when the config table (or every relation) is invalidated. */
static void
ts_config_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ts_config_relid)
	{
		ts_config_valid = false;
		ts_config_generation++;
	}
}

/* Registers the cache's invalidation callback; called once from _PG_init. */
void
ts_config_init(void)
{
	CacheRegisterRelcacheCallback(ts_config_relcache_cb, (Datum) 0);
}

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

/* Returns true if name is one of the six notification channels. */
static bool
ts_is_channel(const char *name)
{
	for (size_t i = 0; i < lengthof(ts_channels); i++)
		if (strcmp(name, ts_channels[i]) == 0)
			return true;
	return false;
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

	if (*name == '\0' || !ts_is_channel(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for configuration key \"%s\"", key),
				 errdetail("Expected a list of notification channels, got \"%s\"; \"%s\" is not a channel.",
						   value, name),
				 errhint("Channels are email, sms, slack, teams, discord and webhook, written as \"email,slack\" or [\"email\",\"slack\"].")));
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
		if (!ts_is_channel(channel) || *recipient == '\0')
			ts_config_bad_value(key, value, "a list of channel:recipient items with known channels",
								"Channels are email, sms, slack, teams, discord and webhook.");
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
	const char *problem;

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
	problem = ts_http_url_problem(url);
	if (problem == NULL && policy)
		problem = ts_destination_problem(url);
	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for configuration key \"%s\"", key),
				 errdetail("Expected an http(s) URL or nothing; the value %s.", problem),
				 errhint("%s", hint)));
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
static bool
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
static char *
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

/* Reports a key that the config table does not know. */
static void
ts_config_unknown_key(const char *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("unknown configuration key \"%s\"", key),
			 errhint("SELECT config_key FROM support_troubleshooting_config lists the keys.")));
}

/* Reloads the whole table into the cache. */
static void
ts_config_fill(void)
{
	Oid			relid = ts_extension_relid(TS_CONFIG_TABLE, false);
	uint64		generation;
	char	   *query;
	MemoryContext oldcxt;
	int			ret;

	ts_config_relid = relid;
	generation = ts_config_generation;

	if (ts_config_context == NULL)
		ts_config_context = AllocSetContextCreate(CacheMemoryContext,
												  "troubleshooting config cache",
												  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(ts_config_context);
	ts_config_entries = NULL;
	ts_config_nentries = 0;

	query = psprintf("SELECT config_key, coalesce(config_value, default_value), value_type FROM %s",
					 ts_qualified_name(get_rel_namespace(relid), TS_CONFIG_TABLE));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(query, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", TS_CONFIG_TABLE, SPI_result_code_string(ret));

	oldcxt = MemoryContextSwitchTo(ts_config_context);
	ts_config_entries = palloc0(sizeof(TsConfigEntry) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *value = SPI_getvalue(tup, desc, 2);

		ts_config_entries[i].key = SPI_getvalue(tup, desc, 1);
		ts_config_entries[i].value = value ? value : pstrdup("");
		ts_config_entries[i].type = SPI_getvalue(tup, desc, 3);
	}
	ts_config_nentries = (int) SPI_processed;
	MemoryContextSwitchTo(oldcxt);
	SPI_finish();

	/* An invalidation that arrived while reading means the copy may be old. */
	ts_config_valid = (generation == ts_config_generation);
}

/* Finds a key's cache entry, refreshing the cache first if needed. */
static const TsConfigEntry *
ts_config_lookup(const char *key, bool missing_ok)
{
	AcceptInvalidationMessages();
	if (!ts_config_valid)
		ts_config_fill();

	/*
	 * A transaction that changed the table may read it under an older
	 * snapshot later in the same statement; keep nothing it reads.
	 */
	if (TransactionIdIsValid(ts_config_writer_xid) &&
		ts_config_writer_xid == GetTopTransactionIdIfAny())
		ts_config_valid = false;
	for (int i = 0; i < ts_config_nentries; i++)
		if (strcmp(ts_config_entries[i].key, key) == 0)
			return &ts_config_entries[i];
	if (!missing_ok)
		ts_config_unknown_key(key);
	return NULL;
}

/* Returns the effective value of a key as text (palloc'd). */
char *
ts_config_get_text(const char *key)
{
	return pstrdup(ts_config_lookup(key, false)->value);
}

/* Returns the effective value of an integer key. */
int
ts_config_get_int(const char *key)
{
	const TsConfigEntry *e = ts_config_lookup(key, false);
	int			n;

	if (strcmp(e->type, "integer") != 0 || !ts_parse_count(e->value, &n))
		elog(ERROR, "configuration key \"%s\" is not an integer", key);
	return n;
}

/* Returns the effective value of a boolean key. */
bool
ts_config_get_bool(const char *key)
{
	const TsConfigEntry *e = ts_config_lookup(key, false);
	bool		b;

	if (strcmp(e->type, "boolean") != 0 || !parse_bool(e->value, &b))
		elog(ERROR, "configuration key \"%s\" is not a boolean", key);
	return b;
}

/* Returns the effective value of a list key as a List of palloc'd strings. */
List *
ts_config_get_list(const char *key)
{
	const TsConfigEntry *e = ts_config_lookup(key, false);
	List	   *result = NIL;
	char	   *copy;
	char	   *tok;
	char	   *save;

	if (strcmp(e->type, "channel_list") != 0)
		elog(ERROR, "configuration key \"%s\" is not a list", key);
	copy = pstrdup(e->value);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		result = lappend(result, pstrdup(tok));
	return result;
}

/* get_troubleshooting_config(key): the effective value of a key. */
Datum
get_troubleshooting_config(PG_FUNCTION_ARGS)
{
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(ts_config_lookup(key, false)->value));
}

/* set_troubleshooting_config(key, value): stores a value (NULL = default). */
Datum
set_troubleshooting_config(PG_FUNCTION_ARGS)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	char	   *query;
	char	   *key;
	Oid			relid;
	int			ret;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("configuration key must not be null")));
	key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	values[0] = PG_GETARG_DATUM(0);
	if (PG_ARGISNULL(1))
	{
		values[1] = (Datum) 0;
		nulls[1] = 'n';
	}
	else
		values[1] = PG_GETARG_DATUM(1);

	relid = ts_extension_relid(TS_CONFIG_TABLE, false);
	query = psprintf("UPDATE %s SET config_value = $2, updated_at = now() WHERE config_key = $1",
					 ts_qualified_name(get_rel_namespace(relid), TS_CONFIG_TABLE));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(query, 2, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not update %s: %s", TS_CONFIG_TABLE, SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ts_config_unknown_key(key);
	SPI_finish();
	PG_RETURN_VOID();
}

/* Returns attribute attname of tuple as a palloc'd C string, or NULL. */
static char *
ts_tuple_text(HeapTuple tuple, TupleDesc desc, const char *attname)
{
	int			attnum = SPI_fnumber(desc, attname);

	if (attnum <= 0)
		elog(ERROR, "column \"%s\" is missing from %s", attname, TS_CONFIG_TABLE);
	return SPI_getvalue(tuple, desc, attnum);
}

/* True if two possibly-NULL strings differ. */
static bool
ts_str_distinct(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/*
 * Merges an INSERT of a key that still holds its default into that row (the
 * path pg_restore takes, since CREATE EXTENSION already seeded every key).
 * Returns false when the existing row was changed by a user: the INSERT then
 * proceeds and fails on the primary key.
 */
static bool
ts_config_merge_insert(Relation rel, const char *key, const char *value,
					   HeapTuple newtup)
{
	TupleDesc	desc = RelationGetDescr(rel);
	char	   *table = ts_qualified_name(RelationGetNamespace(rel), TS_CONFIG_TABLE);
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	int			ret;
	bool		pristine;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(key);
	ret = SPI_execute_with_args(psprintf("SELECT config_value IS NOT DISTINCT FROM default_value FROM %s WHERE config_key = $1 FOR UPDATE", table),
								1, argtypes, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", TS_CONFIG_TABLE, SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		SPI_finish();
		if (!creating_extension)
			ts_config_unknown_key(key);
		return false;
	}
	pristine = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (!pristine)
	{
		SPI_finish();
		return false;
	}

	if (value)
		values[1] = CStringGetTextDatum(value);
	else
		nulls[1] = 'n';
	values[2] = heap_getattr(newtup, SPI_fnumber(desc, "updated_at"), desc, &isnull);
	if (isnull)
		values[2] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[3] = heap_getattr(newtup, SPI_fnumber(desc, "updated_by"), desc, &isnull);
	if (isnull)
		values[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));

	ts_config_merging = true;
	PG_TRY();
	{
		ret = SPI_execute_with_args(psprintf("UPDATE %s SET config_value = $2, updated_at = $3, updated_by = $4 WHERE config_key = $1", table),
									4, argtypes, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		ts_config_merging = false;
	}
	PG_END_TRY();
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not update %s: %s", TS_CONFIG_TABLE, SPI_result_code_string(ret));
	SPI_finish();
	return true;
}

/* Rejects a change to the columns only the extension's scripts may set. */
static void
ts_config_check_fixed(const char *key, const char *what, bool changed)
{
	if (changed && !creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change %s of configuration key \"%s\"", what, key),
				 errdetail("Keys, their types and defaults are defined by the extension."),
				 errhint("Change config_value; set it to NULL to go back to the default.")));
}

/*
 * BEFORE row trigger on the config table: validates and normalises values,
 * stamps updated_at/updated_by, forbids deleting or redefining keys, merges
 * restored rows, and invalidates every backend's cache.
 */
Datum
ts_config_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	newtup;
	char	   *key;
	char	   *type;
	char	   *value;
	char	   *normalized;
	int			cols[3];
	Datum		vals[3];
	bool		nulls[3] = {false, false, false};
	int			ncols = 0;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ts_config_guard: not called as a trigger");
	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));
	ts_config_writer_xid = GetTopTransactionId();

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		if (creating_extension)
			return TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ?
				PointerGetDatum(trigdata->tg_trigtuple) : PointerGetDatum(NULL);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("configuration keys cannot be deleted"),
				 errhint("Set config_value to NULL to go back to a key's default.")));
	}

	newtup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	key = ts_tuple_text(newtup, desc, "config_key");
	type = ts_tuple_text(newtup, desc, "value_type");
	value = ts_tuple_text(newtup, desc, "config_value");
	if (key == NULL || type == NULL)
		return PointerGetDatum(newtup);	/* NOT NULL constraints report it */

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		char	   *def = ts_tuple_text(newtup, desc, "default_value");

		if (creating_extension && def != NULL)
			(void) ts_config_normalize(key, type, def);
		normalized = ts_config_normalize(key, type, value);
		if (ts_config_merge_insert(rel, key, normalized, newtup))
			return PointerGetDatum(NULL);
	}
	else
	{
		HeapTuple	oldtup = trigdata->tg_trigtuple;
		char	   *oldvalue = ts_tuple_text(oldtup, desc, "config_value");

		ts_config_check_fixed(key, "the name",
							  ts_str_distinct(ts_tuple_text(oldtup, desc, "config_key"), key));
		ts_config_check_fixed(key, "the type",
							  ts_str_distinct(ts_tuple_text(oldtup, desc, "value_type"), type));
		ts_config_check_fixed(key, "the default",
							  ts_str_distinct(ts_tuple_text(oldtup, desc, "default_value"),
											  ts_tuple_text(newtup, desc, "default_value")));
		normalized = ts_config_normalize(key, type, value);

		if (ts_str_distinct(oldvalue, normalized) && !ts_config_merging)
		{
			/* Stamp who and when, unless the statement said so itself. */
			if (!ts_str_distinct(ts_tuple_text(oldtup, desc, "updated_by"),
								 ts_tuple_text(newtup, desc, "updated_by")))
			{
				cols[ncols] = SPI_fnumber(desc, "updated_by");
				vals[ncols++] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
			}
			if (!ts_str_distinct(ts_tuple_text(oldtup, desc, "updated_at"),
								 ts_tuple_text(newtup, desc, "updated_at")))
			{
				cols[ncols] = SPI_fnumber(desc, "updated_at");
				vals[ncols++] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			}
		}
	}

	if (ts_str_distinct(value, normalized))
	{
		cols[ncols] = SPI_fnumber(desc, "config_value");
		nulls[ncols] = (normalized == NULL);
		vals[ncols++] = normalized ? CStringGetTextDatum(normalized) : (Datum) 0;
	}
	if (ncols > 0)
		newtup = heap_modify_tuple_by_cols(newtup, desc, ncols, cols, vals, nulls);
	return PointerGetDatum(newtup);
}

/* AFTER UPDATE row trigger: records a change of effective value in history. */
Datum
ts_config_record_history(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	char	   *oldval;
	char	   *newval;
	char	   *def;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			ret;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ts_config_record_history: not called as a trigger");
	if (ts_config_merging)
		return PointerGetDatum(NULL);	/* a restore: history comes with it */

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	def = ts_tuple_text(trigdata->tg_newtuple, desc, "default_value");
	oldval = ts_tuple_text(trigdata->tg_trigtuple, desc, "config_value");
	newval = ts_tuple_text(trigdata->tg_newtuple, desc, "config_value");
	if (oldval == NULL)
		oldval = def;
	if (newval == NULL)
		newval = def;
	if (!ts_str_distinct(oldval, newval))
		return PointerGetDatum(NULL);

	values[0] = CStringGetTextDatum(ts_tuple_text(trigdata->tg_newtuple, desc, "config_key"));
	if (oldval)
		values[1] = CStringGetTextDatum(oldval);
	else
		nulls[1] = 'n';
	if (newval)
		values[2] = CStringGetTextDatum(newval);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(ts_tuple_text(trigdata->tg_newtuple, desc, "updated_by"));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s (config_key, old_value, new_value, changed_by) VALUES ($1, $2, $3, $4)",
										 ts_qualified_name(RelationGetNamespace(rel), TS_CONFIG_HISTORY_TABLE)),
								4, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record configuration history: %s", SPI_result_code_string(ret));
	SPI_finish();
	return PointerGetDatum(NULL);
}
