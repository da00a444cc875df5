/*
 * llm.c
 *	  The optional executive summary of reports, written by an
 *	  OpenAI-compatible chat completions API when enable_llm_enhancement is
 *	  on: the maintenance worker's step that picks a recent report without
 *	  one, asks the endpoint and stores the answer in the report's document
 *	  (executive_summary).
 *
 * The step works in three parts so that no transaction stays open during
 * network I/O: a short transaction claims a report (counting the attempt
 * first, so a crash mid-request still counts) and builds the request; the
 * request runs with no transaction open; a second short transaction stores
 * the summary or the error.  A report gets at most three attempts, a minute
 * apart times the attempts so far; reports are complete without a summary.
 *
 * The request carries the report's aggregate figures only (summary,
 * satisfaction, trends, top problems, recommendations): no filters, no
 * customer data.  The API key (support_troubleshooting_llm_credentials,
 * owner only; "env:NAME" read from the server's environment) is sent only
 * to the llm_base_url it was set for, and never appears in logs or errors.
 */
#include "postgres.h"

#include "compat.h"
#include "config/config.h"
#include "base/extschema.h"
#include "worker/worker.h"
#include "notify/enqueue/address.h"
#include "notify/enqueue/provider_settings.h"
#include "net/curl.h"
#include "report/report.h"

#include <curl/curl.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* Attempts per report. */
#define TS_LLM_MAX_ATTEMPTS 3
/* Largest response read. */
#define TS_LLM_MAX_RESPONSE (1024 * 1024)
/* Longest summary stored, in characters. */
#define TS_LLM_MAX_SUMMARY 8000
/* Time between two looks for work while there is none. */
#define TS_LLM_IDLE_POLL_MS 5000
/* Reports older than this are not summarised. */
#define TS_LLM_RECENT "1 day"

static const char *const ts_llm_system_prompt =
"You write the executive summary of a customer-support troubleshooting report "
"for managers. The user message is the report as JSON: summary figures, "
"customer satisfaction, trends against the previous period, the top problems "
"and the recommendations of the report's rules. Rates are fractions of 1 and "
"times are in minutes; null means no data. In 3 to 6 plain sentences, without "
"headings or lists, say how the period went, what changed notably, which "
"problems need attention and the most important next step. Use only the "
"figures given and do not invent any.";

/* A claimed report and the request that asks for its summary. */
typedef struct TsLlmJob
{
	int64		report_id;
	int			attempt;
	char	   *model;
	char	   *url;			/* {llm_base_url}/chat/completions */
	char	   *auth;			/* the Authorization header (wiped after use) */
	char	   *body;			/* the request JSON */
	long		timeout_ms;
} TsLlmJob;

/* What came back: the response body, or the error. */
typedef struct TsLlmResult
{
	StringInfoData body;
	bool		too_large;
	bool		refused;
	char	   *error;			/* NULL: body holds a 2xx answer */
} TsLlmResult;

/* The summary to store (parsed in a subtransaction of the writing one). */
typedef struct TsLlmStore
{
	const char *schema;
	TsLlmJob   *job;
	TsLlmResult *result;
} TsLlmStore;

/* The last configuration problem logged, so that each is logged once. */
static char *ts_llm_logged_problem = NULL;

/* Logs a configuration problem that stops the summaries, once until it changes. */
static void
ts_llm_config_problem(const char *message, const char *hint)
{
	if (ts_llm_logged_problem && strcmp(ts_llm_logged_problem, message) == 0)
		return;
	if (ts_llm_logged_problem)
		pfree(ts_llm_logged_problem);
	ts_llm_logged_problem = MemoryContextStrdup(TopMemoryContext, message);
	ereport(WARNING,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("executive summaries are on but cannot be requested: %s", message),
			 errhint("%s", hint)));
}

/*
 * Checks the endpoint settings and reads the key; returns the key, or NULL
 * (logged once) when summaries cannot be requested.
 */
static char *
ts_llm_key(const char *schema, const char *base_url)
{
	const char *problem;
	char	   *stored;
	char	   *bound_url;
	char	   *key;

	if (base_url[0] == '\0')
	{
		ts_llm_config_problem("llm_base_url is empty",
							  "SELECT set_troubleshooting_config('llm_base_url', 'https://...');");
		return NULL;
	}
	if ((problem = ts_http_url_problem(base_url)) != NULL)
	{
		ts_llm_config_problem(psprintf("llm_base_url %s", problem),
							  "Give an http or https base URL such as https://api.openai.com/v1.");
		return NULL;
	}
	if (SPI_execute(psprintf("SELECT api_key, base_url FROM %s.support_troubleshooting_llm_credentials",
							 schema), true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the LLM credentials");
	if (SPI_processed == 0)
	{
		ts_llm_config_problem("no API key is set",
							  "SELECT set_troubleshooting_llm_api_key('env:NAME') (or the key itself).");
		return NULL;
	}
	stored = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	bound_url = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (strcmp(bound_url, base_url) != 0)
	{
		ts_llm_config_problem("llm_base_url changed since the API key was set",
							  "Set the key again for the new URL: SELECT set_troubleshooting_llm_api_key(...).");
		return NULL;
	}
	key = ts_resolve_secret(stored);
	if (key == NULL)
	{
		ts_llm_config_problem("the API key's environment variable is unset or empty",
							  "Set it in the server's environment and restart, or store the key itself.");
		return NULL;
	}
	if (ts_has_control_char(key))
	{
		/* the key goes into a header: a CR/LF (a trailing newline) would end it */
		explicit_bzero(key, strlen(key));
		ts_llm_config_problem("the API key holds a control character (a trailing newline?)",
							  "Store the key without line breaks or other control characters.");
		return NULL;
	}
	if (ts_llm_logged_problem)
	{
		pfree(ts_llm_logged_problem);
		ts_llm_logged_problem = NULL;
	}
	return key;
}

/*
 * Claims the most recent report that needs a summary, counts the attempt
 * and builds the request, copied into cxt; NULL when there is none.
 */
static TsLlmJob *
ts_llm_claim(const char *schema, MemoryContext cxt)
{
	char	   *base_url = ts_config_get_text("llm_base_url");
	char	   *model = ts_config_get_text("llm_model");
	int			timeout = ts_config_get_int("llm_timeout_seconds");
	char	   *temperature = ts_config_get_text("llm_temperature");
	char	   *key;
	int64		report_id;
	int			attempt;
	char	   *content;
	bool		isnull;
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	TsLlmJob   *job;
	MemoryContext old;
	int			ret;
	size_t		n;

	if ((key = ts_llm_key(schema, base_url)) == NULL)
		return NULL;

	/*
	 * Candidates first (no document read), then the newest whose document is
	 * a report without a summary; of it, aggregate parts only: no filters,
	 * nothing about customers.
	 */
	ret = SPI_execute(psprintf("WITH c AS MATERIALIZED ("
							   "  SELECT r.id, coalesce(a.attempts, 0) + 1 AS attempt"
							   "  FROM %s.support_troubleshooting_reports r"
							   "  LEFT JOIN %s.support_troubleshooting_report_summaries a ON a.report_id = r.id"
							   "  WHERE r.generated_at > now() - interval '" TS_LLM_RECENT "'"
							   "   AND (a.report_id IS NULL OR (a.summarized_at IS NULL AND a.attempts < %d"
							   "        AND a.last_attempt_at <= now() - interval '1 minute' * a.attempts::float8)))"
							   " SELECT r.id, c.attempt, jsonb_build_object("
							   "  'report_type', r.data->'report_type', 'title', r.data->'title',"
							   "  'period', r.data->'period', 'summary', r.data->'summary',"
							   "  'satisfaction', r.data->'satisfaction', 'trends', r.data->'trends',"
							   "  'top_problems', (SELECT coalesce(jsonb_agg(jsonb_build_object("
							   "      'title', p->'title', 'sessions', p->'sessions',"
							   "      'resolution_rate', p->'resolution_rate',"
							   "      'escalation_rate', p->'escalation_rate',"
							   "      'median_resolution_time_minutes', p->'median_resolution_time_minutes',"
							   "      'failing_steps', p->'failing_steps') ORDER BY n), '[]')"
							   "    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.data->'top_problems') = 'array'"
							   "      THEN r.data->'top_problems' ELSE '[]' END) WITH ORDINALITY AS t(p, n)"
							   "    WHERE n <= 10),"
							   "  'recommendations', (SELECT coalesce(jsonb_agg(jsonb_build_object("
							   "      'severity', e->'severity', 'message', e->'message') ORDER BY n), '[]')"
							   "    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.data->'recommendations') = 'array'"
							   "      THEN r.data->'recommendations' ELSE '[]' END) WITH ORDINALITY AS t(e, n))"
							   " )::text"
							   " FROM c JOIN %s.support_troubleshooting_reports r ON r.id = c.id"
							   " WHERE jsonb_typeof(r.data->'summary') = 'object'"
							   "  AND coalesce(jsonb_typeof(r.data->'executive_summary'), 'null') = 'null'"
							   " ORDER BY r.generated_at DESC, r.id DESC LIMIT 1"
							   " FOR UPDATE OF r SKIP LOCKED",
							   schema, schema, TS_LLM_MAX_ATTEMPTS, schema), false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not look for reports to summarise: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		explicit_bzero(key, strlen(key));
		return NULL;
	}
	report_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	attempt = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	content = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

	/* the attempt counts from now on, whatever happens to the request */
	values[0] = Int64GetDatum(report_id);
	values[1] = CStringGetTextDatum(model);
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s.support_troubleshooting_report_summaries AS s"
										 " (report_id, attempts, last_attempt_at, model) VALUES ($1, 1, now(), $2)"
										 " ON CONFLICT (report_id) DO UPDATE SET attempts = s.attempts + 1,"
										 "  last_attempt_at = now(), model = EXCLUDED.model", schema),
								2, types, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not count the summary attempt: %s", SPI_result_code_string(ret));

	values[0] = CStringGetTextDatum(model);
	values[1] = CStringGetTextDatum(ts_llm_system_prompt);
	values[2] = CStringGetTextDatum(content);
	values[3] = CStringGetTextDatum(temperature);
	types[0] = TEXTOID;
	ret = SPI_execute_with_args("SELECT jsonb_build_object('model', $1, 'messages', jsonb_build_array("
								" jsonb_build_object('role', 'system', 'content', $2),"
								" jsonb_build_object('role', 'user', 'content', $3)),"
								" 'temperature', $4::numeric)::text",
								4, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not build the summary request: %s", SPI_result_code_string(ret));

	old = MemoryContextSwitchTo(cxt);
	job = palloc0(sizeof(TsLlmJob));
	job->report_id = report_id;
	job->attempt = attempt;
	job->model = pstrdup(model);
	n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	job->url = psprintf("%.*s/chat/completions", (int) n, base_url);
	job->auth = psprintf("Authorization: Bearer %s", key);
	job->body = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	job->timeout_ms = (timeout > 0 ? Min(timeout, 120) : 30) * 1000L;	/* the maintenance worker waits */
	MemoryContextSwitchTo(old);
	explicit_bzero(key, strlen(key));
	return job;
}

/* libcurl: keeps the response, up to TS_LLM_MAX_RESPONSE bytes. */
static size_t
ts_llm_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	TsLlmResult *r = arg;
	size_t		n = size * nmemb;

	if (r->body.len + n > TS_LLM_MAX_RESPONSE)
	{
		r->too_large = true;
		return 0;				/* libcurl stops with CURLE_WRITE_ERROR */
	}
	appendBinaryStringInfo(&r->body, data, (int) n);
	return n;
}

/* libcurl: stops the request when the worker is told to stop or the postmaster died. */
static int
ts_llm_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	return (ProcDiePending || !PostmasterIsAlive()) ? 1 : 0;
}

/*
 * POSTs the request (no transaction open) and fills result; the curl
 * handle and header list are freed on every path, the key wiped.
 */
static void
ts_llm_request(TsLlmJob *job, TsLlmResult *result)
{
	static bool curl_ready = false;
	CURL	   *volatile easy = NULL;
	struct curl_slist *volatile headers = NULL;
	char		errbuf[CURL_ERROR_SIZE];
	volatile CURLcode rc = CURLE_OK;
	volatile long status = 0;

	memset(result, 0, sizeof(*result));
	initStringInfo(&result->body);
	errbuf[0] = '\0';
	PG_TRY();
	{
		if (!curl_ready)
		{
			if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
				elog(ERROR, "curl_global_init failed");
			curl_ready = true;
		}
		if ((easy = curl_easy_init()) == NULL)
			elog(ERROR, "curl_easy_init failed");
		headers = curl_slist_append(headers, "Content-Type: application/json");
		headers = curl_slist_append(headers, "Accept: application/json");
		headers = curl_slist_append(headers, "Expect:");
		headers = curl_slist_append(headers, job->auth);
		if (headers == NULL)
			elog(ERROR, "out of memory for the request headers");
		curl_easy_setopt(easy, CURLOPT_URL, job->url);
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, job->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(job->body));
		/* the destination policy's address check sets result->refused */
		ts_net_harden(easy, false, Min(job->timeout_ms, 10000L), job->timeout_ms, &result->refused);
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, ts_llm_write_cb);
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, result);
		curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, ts_llm_progress_cb);
		curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
		pgstat_report_activity(STATE_RUNNING, "requesting a report's executive summary");
		rc = curl_easy_perform(easy);
		if (rc == CURLE_OK)
		{
			long		code = 0;

			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
			status = code;
		}
	}
	PG_FINALLY();
	{
		if (headers)
			curl_slist_free_all(headers);
		if (easy)
			curl_easy_cleanup(easy);
		explicit_bzero(job->auth, strlen(job->auth));
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_END_TRY();
	CHECK_FOR_INTERRUPTS();

	/* errors name what went wrong, never the key, the URL's secrets or the answer */
	if (result->refused)
		result->error = pstrdup("destination refused: a private or link-local address "
								"(troubleshooting.allow_private_destinations)");
	else if (result->too_large)
		result->error = psprintf("the response is larger than %d bytes", TS_LLM_MAX_RESPONSE);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		result->error = psprintf("no answer within %ld seconds (llm_timeout_seconds)", job->timeout_ms / 1000);
	else if (rc != CURLE_OK)
		result->error = psprintf("request failed: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		result->error = psprintf("HTTP %ld from the LLM endpoint", status);
}

/* Parses the answer and writes choices[0].message.content into the report (subtransaction). */
static void
ts_llm_store(void *arg)
{
	TsLlmStore *st = arg;
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		values[2];
	char	   *body;
	bool		isnull;
	Datum		summary;
	int			ret;

	/* the endpoint answers UTF-8 JSON; the database may use another encoding */
	body = pg_any_to_server(st->result->body.data, st->result->body.len, PG_UTF8);
	values[0] = CStringGetTextDatum(body);
	ret = SPI_execute_with_args("SELECT left(btrim(($1::jsonb) #>> '{choices,0,message,content}', E' \\t\\r\\n'), "
								CppAsString2(TS_LLM_MAX_SUMMARY) ")", 1, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the LLM answer: %s", SPI_result_code_string(ret));
	summary = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull || VARSIZE_ANY_EXHDR(DatumGetTextPP(summary)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("the answer has no text in choices[0].message.content")));
	values[0] = summary;
	values[1] = Int64GetDatum(st->job->report_id);
	ret = SPI_execute_with_args(psprintf("UPDATE %s.support_troubleshooting_reports"
										 " SET data = jsonb_set(data, '{executive_summary}', to_jsonb($1))"
										 " WHERE id = $2", st->schema),
								2, types, values, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not store the summary: %s", SPI_result_code_string(ret));
}

/* Records the outcome of an attempt (in the caller's transaction). */
static void
ts_llm_record(const char *schema, TsLlmJob *job, TsLlmResult *result)
{
	TsLlmStore	st = {schema, job, result};
	char	   *error = result->error;
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = "  ";

	if (error == NULL)
		error = ts_worker_try(ts_llm_store, &st);
	values[0] = Int64GetDatum(job->report_id);
	values[1] = error ? CStringGetTextDatum(error) : (Datum) 0;
	nulls[1] = error ? ' ' : 'n';
	if (SPI_execute_with_args(psprintf("UPDATE %s.support_troubleshooting_report_summaries"
									   " SET last_error = $2, summarized_at = CASE WHEN $2 IS NULL THEN now() END"
									   " WHERE report_id = $1", schema),
							  2, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not record the summary attempt");
	if (error)
		ereport(WARNING,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("executive summary of report " INT64_FORMAT " failed (attempt %d of %d)",
						job->report_id, job->attempt, TS_LLM_MAX_ATTEMPTS),
				 errdetail("%s", error),
				 job->attempt < TS_LLM_MAX_ATTEMPTS ?
				 errhint("It is tried again in %d minutes; the report is complete without it.", job->attempt) :
				 errhint("No more attempts; the report is complete without it.")));
	else
		ereport(LOG,
				(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
				 errmsg("executive summary of report " INT64_FORMAT " written (model %s)",
						job->report_id, job->model)));
}

/*
 * The maintenance worker's step: claim (a transaction), request (none),
 * record (a transaction).  Looks for work every TS_LLM_IDLE_POLL_MS while
 * there is none; after a report, at once again.
 */
void
ts_report_llm_step(void)
{
	static TimestampTz next_look = 0;
	MemoryContext outer = CurrentMemoryContext;
	TsLlmJob   *job = NULL;
	TsLlmResult result;
	const char *schema = NULL;
	Oid			nspid;

	if (GetCurrentTimestamp() < next_look)
		return;
	next_look = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), TS_LLM_IDLE_POLL_MS);

	nspid = ts_worker_begin();
	if (OidIsValid(nspid) && ts_config_get_bool("enable_llm_enhancement"))
	{
		pgstat_report_activity(STATE_RUNNING, "looking for reports to summarise");
		schema = MemoryContextStrdup(outer, quote_identifier(get_namespace_name(nspid)));
		job = ts_llm_claim(schema, outer);
	}
	ts_worker_end();
	MemoryContextSwitchTo(outer);
	if (job == NULL)
		return;

	ts_llm_request(job, &result);

	if (OidIsValid(ts_worker_begin()))	/* not when the extension was dropped meanwhile */
	{
		pgstat_report_activity(STATE_RUNNING, "storing a report's executive summary");
		ts_llm_record(schema, job, &result);
	}
	ts_worker_end();
	MemoryContextSwitchTo(outer);
	next_look = 0;				/* there may be more */
	SetLatch(MyLatch);
}

PG_FUNCTION_INFO_V1(set_troubleshooting_llm_api_key);

/* Checks and stores the LLM API key (set_troubleshooting_llm_api_key's work). */
static void
ts_set_llm_api_key(FunctionCallInfo fcinfo)
{
	const char *table = ts_qualified_name(ts_extension_schema(false),
										  "support_troubleshooting_llm_credentials");
	char	   *key;
	size_t		len;
	Oid			type = TEXTOID;
	Datum		arg;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (PG_ARGISNULL(0))
	{
		if (SPI_execute(psprintf("DELETE FROM %s", table), false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not remove the LLM API key");
		SPI_finish();
		return;
	}
	key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	len = strlen(key);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) key[i] <= ' ' || (unsigned char) key[i] >= 0x7f)
			len = 0;			/* only printable ASCII without spaces */
	if (len == 0 || len > 4096)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid LLM API key"),
				 errdetail("The key is empty, longer than 4096 characters, or has spaces or control characters.")));
	if (strncmp(key, "env:", 4) == 0 &&
		(key[4] == '\0' || strspn(key + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != len - 4 ||
		 (key[4] >= '0' && key[4] <= '9')))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid environment variable name in LLM API key"),
				 errhint("Give env:NAME, NAME made of letters, digits and underscores.")));
	arg = CStringGetTextDatum(key);
	if (SPI_execute_with_args(psprintf("INSERT INTO %s AS c (singleton, api_key, base_url)"
									   " VALUES (true, $1, %s.get_troubleshooting_config('llm_base_url'))"
									   " ON CONFLICT (singleton) DO UPDATE"
									   " SET api_key = EXCLUDED.api_key, base_url = EXCLUDED.base_url,"
									   "  updated_at = pg_catalog.now(), updated_by = CURRENT_USER",
									   table, quote_identifier(get_namespace_name(ts_extension_schema(false)))),
							  1, &type, &arg, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the LLM API key");
	SPI_finish();
}

/*
 * set_troubleshooting_llm_api_key(key): the key (or env:NAME) for the
 * llm_base_url configured now; NULL removes it.  An error never logs the
 * calling statement, which carries the key.
 */
Datum
set_troubleshooting_llm_api_key(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		ts_set_llm_api_key(fcinfo);
	}
	PG_CATCH();
	{
		ts_rethrow_hiding_statement(cxt);
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}
