/*
 * provider_settings.c
 *	  The active e-mail and SMS provider of each channel and its settings
 *	  (support_troubleshooting_providers): set_troubleshooting_provider()
 *	  checks every setting of a provider and stores them with defaults
 *	  filled in; troubleshooting_providers() shows them with secrets masked.
 *
 * Settings hold secrets (API keys, tokens, passwords, AWS keys) or
 * "env:NAME" references the dispatcher resolves from the server environment
 * at send time.  Errors name the setting at fault and what form it needs,
 * never its value.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "notify/channel_table.h"
#include "notify/enqueue/address.h"
#include "notify/enqueue/provider_settings.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(set_troubleshooting_provider);
PG_FUNCTION_INFO_V1(troubleshooting_providers);

/* What a setting holds, which decides how it is checked. */
typedef enum TsSettingKind
{
	TS_SET_SECRET,				/* a literal secret or env:NAME; masked when shown */
	TS_SET_TEXT,				/* printable text */
	TS_SET_SMTP_URL,			/* smtp://host[:port] or smtps://host[:port] */
	TS_SET_BASE_URL,			/* http(s) URL of the provider's API */
	TS_SET_EMAIL_FROM,			/* address or Name <address> */
	TS_SET_SMS_FROM,			/* E.164 number or alphanumeric sender id */
	TS_SET_TLS,					/* required, implicit or none */
	TS_SET_PATH,				/* absolute file path */
	TS_SET_REGION,				/* AWS region */
	TS_SET_DOMAIN,				/* DNS domain */
	TS_SET_ACCOUNT_SID,			/* Twilio AC + letters and digits */
	TS_SET_SERVICE_SID			/* Twilio MG + letters and digits */
} TsSettingKind;

typedef struct TsSetting
{
	const char *key;
	TsSettingKind kind;
	bool		required;
} TsSetting;

#define TS_MAX_SETTINGS 6

typedef struct TsProviderDef
{
	const char *name;
	const char *channel;
	const char *base_url;		/* default base_url, or NULL */
	const char *aws_service;	/* default base_url https://<service>.<region>.amazonaws.com */
	const char *note;			/* rules across settings, for the hint */
	TsSetting	settings[TS_MAX_SETTINGS];	/* ends at key NULL */
} TsProviderDef;

static const TsProviderDef ts_providers[] = {
	{"smtp", "email", NULL, NULL,
		"tls is required (STARTTLS, the default for smtp://), implicit (smtps:// only) or none (loopback hosts only)",
		{{"url", TS_SET_SMTP_URL, true}, {"username", TS_SET_TEXT, false},
		{"password", TS_SET_SECRET, false}, {"from", TS_SET_EMAIL_FROM, true},
	{"tls", TS_SET_TLS, false}, {"ca_file", TS_SET_PATH, false}}},
	{"sendgrid", "email", "https://api.sendgrid.com", NULL, NULL,
		{{"api_key", TS_SET_SECRET, true}, {"from", TS_SET_EMAIL_FROM, true},
	{"base_url", TS_SET_BASE_URL, false}}},
	{"mailgun", "email", "https://api.mailgun.net", NULL,
		"the EU region's base_url is https://api.eu.mailgun.net",
		{{"api_key", TS_SET_SECRET, true}, {"domain", TS_SET_DOMAIN, true},
	{"from", TS_SET_EMAIL_FROM, true}, {"base_url", TS_SET_BASE_URL, false}}},
	{"ses", "email", NULL, "email", NULL,
		{{"access_key_id", TS_SET_SECRET, true}, {"secret_access_key", TS_SET_SECRET, true},
		{"region", TS_SET_REGION, true}, {"from", TS_SET_EMAIL_FROM, true},
	{"session_token", TS_SET_SECRET, false}, {"base_url", TS_SET_BASE_URL, false}}},
	{"twilio", "sms", "https://api.twilio.com", NULL,
		"exactly one of from and messaging_service_sid",
		{{"account_sid", TS_SET_ACCOUNT_SID, true}, {"auth_token", TS_SET_SECRET, true},
		{"from", TS_SET_SMS_FROM, false}, {"messaging_service_sid", TS_SET_SERVICE_SID, false},
	{"base_url", TS_SET_BASE_URL, false}}},
	{"sns", "sms", NULL, "sns", NULL,
		{{"access_key_id", TS_SET_SECRET, true}, {"secret_access_key", TS_SET_SECRET, true},
		{"region", TS_SET_REGION, true}, {"session_token", TS_SET_SECRET, false},
	{"base_url", TS_SET_BASE_URL, false}}},
};

/* Number of settings provider def has. */
static int
ts_nsettings(const TsProviderDef *def)
{
	int			n = 0;

	while (n < TS_MAX_SETTINGS && def->settings[n].key)
		n++;
	return n;
}

/* Index of setting key in def, or -1. */
static int
ts_setting_index(const TsProviderDef *def, const char *key, int len)
{
	for (int i = 0; i < ts_nsettings(def); i++)
		if ((int) strlen(def->settings[i].key) == len && strncmp(def->settings[i].key, key, len) == 0)
			return i;
	return -1;
}

/* The hint of every settings error: which settings the provider takes. */
static char *
ts_settings_hint(const TsProviderDef *def)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "Provider %s takes ", def->name);
	for (int i = 0; i < ts_nsettings(def); i++)
		appendStringInfo(&buf, "%s%s%s", i ? ", " : "", def->settings[i].key,
						 def->settings[i].required ? " (required)" : "");
	if (def->note)
		appendStringInfo(&buf, "; %s", def->note);
	appendStringInfoString(&buf, ". Values are JSON strings; secrets may be \"env:NAME\" (read from the server environment).");
	return buf.data;
}

/* The hint of channel and provider errors. */
static const char *ts_providers_hint =
"E-mail providers are smtp, sendgrid, mailgun and ses; SMS providers are twilio and sns.";

/*
 * True if s is a Twilio SID of the given kind: its two-letter prefix, then
 * letters and digits (real ones have 32 hex digits; the account's goes into
 * the request path, so nothing else may).
 */
static bool
ts_is_sid(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, 2) != 0 || s[2] == '\0' || strlen(s) > 64)
		return false;
	for (s += 2; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

/* True for an AWS region name such as us-east-1 or ap-southeast-2. */
static bool
ts_is_region(const char *s)
{
	int			parts = 0;

	for (;;)
	{
		int			len = strcspn(s, "-");
		bool		last = s[len] == '\0';

		if (len == 0)
			return false;
		for (int i = 0; i < len; i++)
			if (last ? (s[i] < '0' || s[i] > '9') : (s[i] < 'a' || s[i] > 'z'))
				return false;
		if (++parts == 1 && len != 2)
			return false;
		if (last)
			break;
		s += len + 1;
	}
	return parts >= 3;
}

/* Checks a sender for e-mail: an address, or Name <address>. */
static const char *
ts_email_from_problem(const char *v)
{
	const char *lt = strchr(v, '<');
	size_t		len = strlen(v);
	const char *problem;

	if (lt == NULL)
	{
		problem = ts_email_problem(v);
		return problem ? psprintf("is not an e-mail address (it %s)", problem) : NULL;
	}
	if (v[len - 1] != '>')
		return "is not Name <address> (it does not end with >)";
	for (const char *p = v; p < lt; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '>')
			return "has a name with a control character or an angle bracket";
	problem = ts_email_problem(pnstrdup(lt + 1, v + len - 1 - (lt + 1)));
	return problem ? psprintf("has an address that %s", problem) : NULL;
}

/* Checks an SMS sender: an E.164 number or an alphanumeric sender id. */
static const char *
ts_sms_from_problem(const char *v)
{
	const char *problem = "is neither an E.164 number (+ then 8 to 15 digits) nor an alphanumeric"
		" sender id (1 to 11 letters, digits or spaces, at least one letter)";
	bool		letter = false;

	if (v[0] == '+')
		return ts_e164_problem(v) ? "is not an E.164 number (+ then 8 to 15 digits)" : NULL;
	for (const char *p = v; *p; p++)
	{
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			letter = true;
		else if (!(*p >= '0' && *p <= '9') && *p != ' ')
			return problem;
	}
	if (strlen(v) > 11 || !letter)
		return problem;
	return NULL;
}

/* Checks a secret: env:NAME, or a literal without control characters. */
static const char *
ts_secret_problem(const char *v)
{
	if (strncmp(v, "env:", 4) == 0)
	{
		const char *p = v + 4;

		if (!((*p >= 'A' && *p <= 'Z') || *p == '_'))
			return "is not env: followed by an environment variable name ([A-Z_][A-Z0-9_]*)";
		for (; *p; p++)
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
				return "is not env: followed by an environment variable name ([A-Z_][A-Z0-9_]*)";
		return NULL;
	}
	if (ts_has_control_char(v))
		return "has a control character";
	if (strlen(v) > 4096)
		return "is longer than 4096 characters";
	return NULL;
}

/*
 * Checks one setting value of the given kind; returns what is wrong, or
 * NULL.  For the SMTP URL, sets *implicit and *loopback.
 */
static const char *
ts_setting_problem(TsSettingKind kind, const char *v, bool *implicit, bool *loopback)
{
	const char *problem;

	if (v[0] == '\0')
		return "is empty (leave an optional setting out instead)";
	switch (kind)
	{
		case TS_SET_SECRET:
			return ts_secret_problem(v);
		case TS_SET_TEXT:
			if (ts_has_control_char(v) || strlen(v) > 1024)
				return "has a control character or is longer than 1024 characters";
			return NULL;
		case TS_SET_SMTP_URL:
			problem = ts_smtp_url_problem(v, implicit, loopback);
			return problem ? psprintf("is not smtp://host[:port] or smtps://host[:port] (it %s)", problem) : NULL;
		case TS_SET_BASE_URL:
			problem = ts_http_url_problem(v);
			return problem ? psprintf("is not an http(s) URL (it %s)", problem) : NULL;
		case TS_SET_EMAIL_FROM:
			return ts_email_from_problem(v);
		case TS_SET_SMS_FROM:
			return ts_sms_from_problem(v);
		case TS_SET_TLS:
			if (strcmp(v, "required") != 0 && strcmp(v, "implicit") != 0 && strcmp(v, "none") != 0)
				return "is not required, implicit or none";
			return NULL;
		case TS_SET_PATH:
			if (v[0] != '/' || ts_has_control_char(v) || strlen(v) > 4096)
				return "is not an absolute file path";
			return NULL;
		case TS_SET_REGION:
			return ts_is_region(v) ? NULL : "is not an AWS region name such as us-east-1";
		case TS_SET_DOMAIN:
			problem = ts_host_problem(v, strlen(v), true);
			return problem ? psprintf("is not a domain name (it %s)", problem) : NULL;
		case TS_SET_ACCOUNT_SID:
			return ts_is_sid(v, "AC") ? NULL : "is not a Twilio account SID (AC then letters and digits)";
		case TS_SET_SERVICE_SID:
			return ts_is_sid(v, "MG") ? NULL : "is not a Twilio messaging service SID (MG then letters and digits)";
	}
	return NULL;
}

/* True if an unknown key's name may be quoted back: it looks like a setting name. */
static bool
ts_key_showable(const char *key, int len)
{
	if (len < 1 || len > 40)
		return false;
	for (int i = 0; i < len; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
			  (key[i] >= '0' && key[i] <= '9') || key[i] == '_' || key[i] == '-'))
			return false;
	return true;
}

/* Reports a settings problem of provider def that concerns no single value. */
static void
ts_bad_settings(const TsProviderDef *def, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid settings for provider %s", def->name),
			 errdetail("%s", detail),
			 errhint("%s", ts_settings_hint(def))));
}

/*
 * Checks settings for def; fills values[] (by setting index) with the
 * stored values: as given, base_url without trailing slashes, defaults for
 * base_url and tls.
 */
static void
ts_check_settings(const TsProviderDef *def, Jsonb *settings, char **values)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	k;
	JsonbValue	v;
	int			n = ts_nsettings(def);
	bool		implicit = false;
	bool		loopback = false;
	int			i;

	if (!JB_ROOT_IS_OBJECT(settings))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("provider settings must be a JSON object"),
				 errhint("%s", ts_settings_hint(def))));
	it = JsonbIteratorInit(&settings->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &v, true);
		i = ts_setting_index(def, k.val.string.val, k.val.string.len);
		if (i < 0 && ts_key_showable(k.val.string.val, k.val.string.len))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown setting \"%s\" for provider %s",
							pnstrdup(k.val.string.val, k.val.string.len), def->name),
					 errhint("%s", ts_settings_hint(def))));
		if (i < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown setting for provider %s", def->name),
					 errdetail("A key of the settings is not a setting name; it is not shown."),
					 errhint("%s", ts_settings_hint(def))));
		if (v.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("setting \"%s\" of provider %s must be a JSON string",
							def->settings[i].key, def->name),
					 errhint("%s", ts_settings_hint(def))));
		values[i] = pnstrdup(v.val.string.val, v.val.string.len);
	}

	for (i = 0; i < n; i++)
		if (def->settings[i].required && values[i] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("provider %s needs setting \"%s\"", def->name, def->settings[i].key),
					 errhint("%s", ts_settings_hint(def))));
	for (i = 0; i < n; i++)
	{
		const char *problem;

		if (values[i] == NULL)
			continue;
		problem = ts_setting_problem(def->settings[i].kind, values[i], &implicit, &loopback);
		if (problem)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for setting \"%s\" of provider %s",
							def->settings[i].key, def->name),
					 errdetail("The value %s.", problem),
					 errhint("%s", ts_settings_hint(def))));
	}

	/* rules across settings, and defaults */
	if (strcmp(def->name, "smtp") == 0)
	{
		int			tls = ts_setting_index(def, "tls", 3);
		int			user = ts_setting_index(def, "username", 8);
		int			pass = ts_setting_index(def, "password", 8);

		if ((values[user] == NULL) != (values[pass] == NULL))
			ts_bad_settings(def, "username and password go together: give both or neither.");
		if (values[tls] == NULL)
			values[tls] = implicit ? "implicit" : "required";
		else if (implicit && strcmp(values[tls], "implicit") != 0)
			ts_bad_settings(def, psprintf("An smtps:// url means implicit TLS; tls \"%s\" does not go with it.",
										  values[tls]));
		else if (!implicit && strcmp(values[tls], "implicit") == 0)
			ts_bad_settings(def, "tls \"implicit\" needs an smtps:// url.");
		else if (strcmp(values[tls], "none") == 0 && !loopback)
			ts_bad_settings(def, "tls \"none\" (no encryption) is only allowed when the url's host is 127.0.0.1, ::1 or localhost.");
	}
	if (strcmp(def->name, "twilio") == 0 &&
		(values[ts_setting_index(def, "from", 4)] == NULL) ==
		(values[ts_setting_index(def, "messaging_service_sid", 21)] == NULL))
		ts_bad_settings(def, "Give exactly one of from and messaging_service_sid.");
	i = ts_setting_index(def, "base_url", 8);
	if (i >= 0 && values[i] != NULL)
	{
		char	   *end = values[i] + strlen(values[i]);

		while (end > values[i] + 8 && end[-1] == '/')
			*--end = '\0';
	}
	else if (i >= 0 && def->base_url)
		values[i] = pstrdup(def->base_url);
	else if (i >= 0 && def->aws_service)
		values[i] = psprintf("https://%s.%s.amazonaws.com", def->aws_service,
							 values[ts_setting_index(def, "region", 6)]);
}

/*
 * Rethrows the error being handled with the STATEMENT: line left out of the
 * server log: the statement that called a secret setter carries its secret
 * (any caller, no privilege needed, unlike a function-level SET of
 * log_min_error_statement).  cxt: where the error data is copied.
 */
void
ts_rethrow_hiding_statement(MemoryContext cxt)
{
	ErrorData  *e;

	MemoryContextSwitchTo(cxt);
	e = CopyErrorData();
	FlushErrorState();
	e->hide_stmt = true;
	ReThrowError(e);
}

/* The providers table, schema-qualified. */
static char *
ts_providers_table(void)
{
	return ts_qualified_name(ts_extension_schema(false), "support_troubleshooting_providers");
}

/*
 * Connects SPI and runs sql with bound parameters; an error unless SPI
 * answers expect ("could not <what>").
 */
static void
ts_providers_execute(const char *sql, int nargs, Oid *types, Datum *args, int expect,
					 const char *what)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, nargs, types, args, NULL, expect == SPI_OK_SELECT, 0) != expect)
		elog(ERROR, "could not %s", what);
}
/* Checks and stores a provider's settings (set_troubleshooting_provider's work). */
static void
ts_set_provider(FunctionCallInfo fcinfo)
{
	char	   *channel;
	char	   *provider;
	const TsProviderDef *def = NULL;
	char	   *values[TS_MAX_SETTINGS] = {0};
	StringInfoData json;
	Oid			types[3] = {TEXTOID, TEXTOID, JSONBOID};
	Datum		args[3];
	bool		first = true;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("channel, provider and settings must not be null")));
	channel = text_to_cstring(PG_GETARG_TEXT_PP(0));
	provider = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!ts_channel_in_family(channel, TS_CHANNEL_PROVIDER))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("channel \"%s\" has no providers", channel),
				 errhint("Providers are set for channels email and sms. %s", ts_providers_hint)));
	for (size_t i = 0; i < lengthof(ts_providers); i++)
		if (strcmp(ts_providers[i].name, provider) == 0)
			def = &ts_providers[i];
	if (def == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown provider \"%s\"", provider),
				 errhint("%s", ts_providers_hint)));
	if (strcmp(def->channel, channel) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("provider %s does not send %s", provider, channel),
				 errdetail("It is an %s provider.", strcmp(def->channel, "sms") == 0 ? "SMS" : "e-mail"),
				 errhint("%s", ts_providers_hint)));

	ts_check_settings(def, PG_GETARG_JSONB_P(2), values);

	initStringInfo(&json);
	appendStringInfoChar(&json, '{');
	for (int i = 0; i < ts_nsettings(def); i++)
	{
		if (values[i] == NULL)
			continue;
		if (!first)
			appendStringInfoString(&json, ", ");
		escape_json(&json, def->settings[i].key);
		appendStringInfoString(&json, ": ");
		escape_json(&json, values[i]);
		first = false;
	}
	appendStringInfoChar(&json, '}');

	args[0] = CStringGetTextDatum(channel);
	args[1] = CStringGetTextDatum(provider);
	args[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data));
	ts_providers_execute(psprintf("INSERT INTO %s AS p (channel, provider, settings, updated_at, updated_by)"
								  " VALUES ($1, $2, $3, now(), current_user)"
								  " ON CONFLICT (channel) DO UPDATE SET provider = excluded.provider,"
								  "  settings = excluded.settings, updated_at = excluded.updated_at,"
								  "  updated_by = excluded.updated_by", ts_providers_table()),
						 3, types, args, SPI_OK_INSERT, "store the provider");
	SPI_finish();
}

/*
 * set_troubleshooting_provider(channel, provider, settings): the channel's
 * provider from now on.  An error never logs the calling statement.
 */
Datum
set_troubleshooting_provider(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		ts_set_provider(fcinfo);
	}
	PG_CATCH();
	{
		ts_rethrow_hiding_statement(cxt);
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}

/*
 * troubleshooting_providers(): every channel's provider with its settings,
 * every value shown except secrets ("********"); env:NAME references are
 * names, not secrets, and are shown.
 */
Datum
troubleshooting_providers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	desc;
	Tuplestorestate *store;
	MemoryContext old;
	StringInfoData shown;
	Oid			type = TEXTOID;
	Datum		arg;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* the settings shown as they are: every one that is not a secret */
	initStringInfo(&shown);
	for (size_t i = 0; i < lengthof(ts_providers); i++)
		for (int j = 0; j < ts_nsettings(&ts_providers[i]); j++)
			if (ts_providers[i].settings[j].kind != TS_SET_SECRET)
				appendStringInfo(&shown, "%s%s", shown.len ? "," : "", ts_providers[i].settings[j].key);
	arg = CStringGetTextDatum(shown.data);

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(desc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);

	ts_providers_execute(psprintf("SELECT p.channel, p.provider,"
								  "  coalesce((SELECT jsonb_object_agg(e.key, CASE"
								  "     WHEN e.key = ANY (string_to_array($1, ',')) THEN e.value"
								  "     WHEN jsonb_typeof(e.value) = 'string'"
								  "      AND e.value #>> '{}' ~ '^env:[A-Z_][A-Z0-9_]*$' THEN e.value"
								  "     ELSE '\"********\"'::jsonb END)"
								  "   FROM jsonb_each(p.settings) e), '{}'::jsonb),"
								  "  p.updated_at, p.updated_by"
								  " FROM %s p ORDER BY p.channel", ts_providers_table()),
						 1, &type, &arg, SPI_OK_SELECT, "read the providers");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		Datum		values[5];
		bool		nulls[5];

		for (int c = 0; c < 5; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		tuplestore_putvalues(store, desc, values, nulls);
	}
	SPI_finish();

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	return (Datum) 0;
}

/*
 * A setting's secret for sending: env:NAME read from the server's
 * environment (NULL when unset or empty), else the value itself.
 */
char *
ts_resolve_secret(const char *value)
{
	const char *env;

	if (value == NULL || strncmp(value, "env:", 4) != 0)
		return value ? pstrdup(value) : NULL;
	env = getenv(value + 4);
	return env && *env ? pstrdup(env) : NULL;
}
