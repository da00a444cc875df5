/*
 * schedule.c
 *	  Report schedules (support_troubleshooting_report_schedules): the
 *	  recipient check of the schedule trigger (webhook URLs also asked of the
 *	  destination policy, without connecting) and the maintenance worker's
 *	  step that runs due schedules (due times and periods: schedule_time.c).
 *
 * Each due schedule runs in its own short transaction, its row locked (FOR
 * UPDATE SKIP LOCKED): the report is generated for the period before the due
 * time, exported in the schedule's format, and report_ready is enqueued to
 * every recipient (e-mail with the export attached) with an idempotency key
 * made of the schedule, the due time and the recipient.  The run is recorded
 * in support_troubleshooting_report_schedule_runs (primary key schedule and
 * due time) and next_run_at moves past now in that same transaction, so a
 * due time runs once whatever restarts happen.  After downtime only the
 * latest missed due time runs.  A failing run is rolled back (a
 * subtransaction), recorded, and retried at most three times.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "citus/node.h"
#include "worker/worker.h"
#include "notify/channel_table.h"
#include "notify/enqueue/address.h"
#include "notify/enqueue/content.h"
#include "report/report.h"
#include "report/schedule_time.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(ts_report_schedule_recipient_check);

/* Tries of one due time before the schedule moves on to the next one. */
#define TS_SCHEDULE_MAX_ATTEMPTS 3
/* Minutes before a failed run is tried again (times the attempts so far). */
#define TS_SCHEDULE_RETRY_MINUTES 5
/* Schedules run by one step of the worker (each in its own transaction). */
#define TS_SCHEDULES_PER_STEP 10
/* Longest a recipient may be (as the outbox has it). */
#define TS_SCHEDULE_MAX_RECIPIENT TS_RECIPIENT_MAX

/* A schedule row being run. */
typedef struct TsSchedule
{
	int64		id;
	char	   *name;
	char	   *report_type;
	char	   *format;
	Jsonb	   *recipients;
	Jsonb	   *filters;
	bool		include_charts;
	TsTiming	timing;
} TsSchedule;

/* One run of a schedule for one due time, and what came of it. */
typedef struct TsRun
{
	const char *schema;			/* quoted extension schema */
	TsSchedule *s;
	TimestampTz due;
	TimestampTz start;
	TimestampTz end;
	int64		report_id;
	int			enqueued;
	StringInfoData problems;	/* recipients not enqueued */
} TsRun;

/* One recipient's enqueue (run in its own subtransaction). */
typedef struct TsDelivery
{
	TsRun	   *run;
	const char *channel;
	const char *recipient;
	const char *webhook_url;	/* chat channels: where to post; NULL: the server's default */
	Datum		data;
	Datum		metadata;		/* with the attachment, e-mail only */
	Datum		attachment;		/* (Datum) 0: none */
} TsDelivery;

/*
 * ts_report_schedule_recipient_check(channel, recipient, webhook_url):
 * errors unless the outbox takes it: one e-mail address, an E.164 number, a
 * URL or subscription id for webhooks, a label for chat channels (their
 * URL in webhook_url, else the server's SLACK_WEBHOOK_URL etc.).
 */
Datum
ts_report_schedule_recipient_check(PG_FUNCTION_ARGS)
{
	char	   *channel;
	char	   *recipient;
	bool		chat;
	bool		webhook;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a recipient needs a channel and a recipient")));
	channel = text_to_cstring(PG_GETARG_TEXT_PP(0));
	recipient = text_to_cstring(PG_GETARG_TEXT_PP(1));
	chat = ts_channel_in_family(channel, TS_CHANNEL_CHAT);
	webhook = ts_channel_in_family(channel, TS_CHANNEL_WEBHOOK);
	if (ts_channel_find(channel) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 strlen(channel) <= 20 ? errmsg("unknown channel \"%s\"", channel) : errmsg("unknown channel"),
				 errhint("Channels are %s.", ts_channel_list_text())));
	if (recipient[0] == '\0' || strlen(recipient) > TS_SCHEDULE_MAX_RECIPIENT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recipient must have 1 to %d bytes", TS_SCHEDULE_MAX_RECIPIENT)));
	if (ts_has_control_char(recipient))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recipient must not contain control characters")));
	ts_check_recipient(channel, recipient);
	if (webhook && strspn(recipient, "0123456789") != strlen(recipient))
		ts_check_webhook_url("recipient for channel webhook", recipient,
					 "Give the URL the webhook posts to, or a webhook subscription id.");
	else if (webhook && strlen(recipient) > 18)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid recipient for channel webhook"),
				 errdetail("A webhook subscription id has at most 18 digits."),
				 errhint("Give the URL the webhook posts to, or a webhook subscription id.")));
	if (!PG_ARGISNULL(2))
	{
		if (!chat)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("only slack, teams and discord recipients take a webhook_url")));
		ts_check_webhook_url("webhook_url", text_to_cstring(PG_GETARG_TEXT_PP(2)),
					 "Give the channel's incoming webhook URL.");
	}
	PG_RETURN_VOID();
}

/* Text of column col of the current SPI row (NULL when null). */
static char *
ts_col_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

/* Datum of column col of the current SPI row; *isnull says if null. */
static Datum
ts_col(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/* Enqueues report_ready to one recipient (in its own subtransaction). */
static void
ts_deliver(void *arg)
{
	TsDelivery *d = arg;
	TsRun	   *run = d->run;
	bool		email = strcmp(d->channel, "email") == 0 && d->attachment != (Datum) 0;
	Oid			types[6] = {TEXTOID, TEXTOID, JSONBOID, JSONBOID, TEXTOID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = "      ";
	int			ret;

	values[0] = CStringGetTextDatum(d->channel);
	values[1] = CStringGetTextDatum(d->recipient);
	values[2] = d->data;
	values[3] = email ? d->metadata : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	values[4] = CStringGetTextDatum(psprintf("report-schedule:" INT64_FORMAT ":" INT64_FORMAT ":",
											 run->s->id,
											 (int64) (run->due / USECS_PER_SEC)));
	values[5] = d->webhook_url ? CStringGetTextDatum(d->webhook_url) : (Datum) 0;
	nulls[5] = d->webhook_url ? ' ' : 'n';
	/* the key: schedule, due time, and a digest of the recipient */
	/* every argument typed exactly: no overload in the schema can match better */
	ret = SPI_execute_with_args(psprintf("SELECT %s.send_troubleshooting_notification($1, $2,"
										 " 'report_ready'::text, $3, 'normal'::text,"
										 " CASE WHEN $6 IS NULL THEN $4 ELSE jsonb_build_object('webhook_url', $6) END,"
										 " $5 || encode(sha256(convert_to(concat_ws(':', $1, $2, $6), 'UTF8')), 'hex'),"
										 " NULL::timestamptz)",
										 run->schema),
								6, types, values, nulls, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "send_troubleshooting_notification failed: %s", SPI_result_code_string(ret));
	run->enqueued++;
}

/*
 * Generates, exports and sends one due time's report.  Errors leave the
 * caller's subtransaction to roll back; recipients that cannot be enqueued
 * are noted in run->problems and the others still get theirs.
 */
static void
ts_run_schedule(void *arg)
{
	TsRun	   *run = arg;
	TsSchedule *s = run->s;
	const char *ctype;
	const char *ext;
	Oid			gtypes[5] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID, BOOLOID};
	Datum		gvalues[5];
	Oid			etypes[2] = {INT8OID, TEXTOID};
	Datum		evalues[2];
	Oid			dtypes[9] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID};
	Datum		dvalues[9];
	char	   *title;
	bytea	   *file;
	int			len;
	TsDelivery	d;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	bool		isnull;
	int			ret;

	/* the schedule's zone for this transaction: days and hours of the report's series */
	gvalues[0] = CStringGetTextDatum(s->timing.time_zone);
	ret = SPI_execute_with_args("SELECT set_config('TimeZone', $1, true)", 1, gtypes, gvalues,
								NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not set the time zone: %s", SPI_result_code_string(ret));

	/* the report, fresh (not from the cache): its period has just ended */
	pgstat_report_activity(STATE_RUNNING, "generating a scheduled report");
	gvalues[0] = CStringGetTextDatum(s->report_type);
	gvalues[1] = TimestampTzGetDatum(run->start);
	gvalues[2] = TimestampTzGetDatum(run->end);
	gvalues[3] = JsonbPGetDatum(s->filters);
	gvalues[4] = BoolGetDatum(s->include_charts);
	ret = SPI_execute_with_args(psprintf("SELECT (r->>'id')::bigint, r->>'title'"
										 " FROM %s.generate_troubleshooting_report($1, $2, $3, $4, $5, true) r",
										 run->schema),
								5, gtypes, gvalues, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "generate_troubleshooting_report failed: %s", SPI_result_code_string(ret));
	run->report_id = DatumGetInt64(ts_col(0, 1, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the generated report was not stored")));
	title = ts_col_text(0, 2);

	/* the file, in the schedule's format */
	pgstat_report_activity(STATE_RUNNING, "exporting a scheduled report");
	evalues[0] = Int64GetDatum(run->report_id);
	evalues[1] = CStringGetTextDatum(s->format);
	ret = SPI_execute_with_args(psprintf("SELECT %s.export_troubleshooting_report($1, $2)", run->schema),
								2, etypes, evalues, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "export_troubleshooting_report failed: %s", SPI_result_code_string(ret));
	file = DatumGetByteaPP(ts_col(0, 1, &isnull));
	if (isnull)
		elog(ERROR, "export_troubleshooting_report returned null");
	len = VARSIZE_ANY_EXHDR(file);

	/* what every recipient's template gets */
	dvalues[0] = Int64GetDatum(run->report_id);
	dvalues[1] = CStringGetTextDatum(s->report_type);
	dvalues[2] = CStringGetTextDatum(title ? title : s->report_type);
	dvalues[3] = CStringGetTextDatum(ts_schedule_iso_local(run->start, s->timing.time_zone));
	dvalues[4] = CStringGetTextDatum(ts_schedule_iso_local(run->end, s->timing.time_zone));
	dvalues[5] = CStringGetTextDatum(s->timing.time_zone);
	dvalues[6] = Int64GetDatum(s->id);
	dvalues[7] = CStringGetTextDatum(s->name);
	dvalues[8] = CStringGetTextDatum(s->format);
	ret = SPI_execute_with_args("SELECT jsonb_build_object('report_id', $1, 'report_type', $2,"
								" 'title', $3, 'period_start', $4, 'period_end', $5, 'time_zone', $6,"
								" 'schedule_id', $7, 'schedule_name', $8, 'format', $9)",
								9, dtypes, dvalues, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not build the notification data: %s", SPI_result_code_string(ret));
	memset(&d, 0, sizeof(d));
	d.run = run;
	d.data = PointerGetDatum(DatumGetJsonbPCopy(ts_col(0, 1, &isnull)));

	/* e-mail gets the file attached (base64), when it fits the outbox's limit */
	ctype = strcmp(s->format, "pdf") == 0 ? "application/pdf" :
		strcmp(s->format, "csv") == 0 ? "text/csv" : "application/json";
	ext = s->format;
	if (len <= TS_ATTACHMENTS_MAX_BYTES)
	{
		int			b64len = pg_b64_enc_len(len);
		char	   *b64 = palloc(b64len + 1);
		Oid			mtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
		Datum		mvalues[3];
		int			n = pg_b64_encode(VARDATA_ANY(file), len, b64, b64len);

		if (n < 0)
			elog(ERROR, "could not encode the report in base64");
		b64[n] = '\0';
		mvalues[0] = CStringGetTextDatum(psprintf("troubleshooting-%s-%.10s.%s", s->report_type,
												  ts_schedule_iso_local(run->start, s->timing.time_zone), ext));
		mvalues[1] = CStringGetTextDatum(ctype);
		mvalues[2] = CStringGetTextDatum(b64);
		pfree(b64);
		ret = SPI_execute_with_args("SELECT jsonb_build_object('attachments', jsonb_build_array("
									"jsonb_build_object('filename', $1, 'content_type', $2, 'content', $3)))",
									3, mtypes, mvalues, NULL, false, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not build the attachment: %s", SPI_result_code_string(ret));
		d.metadata = PointerGetDatum(DatumGetJsonbPCopy(ts_col(0, 1, &isnull)));
		d.attachment = mvalues[2];
	}
	else
		ereport(LOG,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("report schedule \"%s\": the %s export is too large to attach", s->name, s->format),
				 errdetail("It has %d bytes; e-mail attachments may have %d.", len, TS_ATTACHMENTS_MAX_BYTES)));
	SPI_freetuptable(SPI_tuptable);

	/* one notification per recipient, each in its own subtransaction */
	pgstat_report_activity(STATE_RUNNING, "enqueueing scheduled report notifications");
	it = JsonbIteratorInit(&s->recipients->root);
	initStringInfo(&run->problems);
	for (int i = 0; (tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE;)
	{
		JsonbValue *ch;
		JsonbValue *rc;
		JsonbValue *url;
		char	   *error;

		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvBinary ||
			(ch = getKeyJsonValueFromContainer(v.val.binary.data, "channel", 7, NULL)) == NULL ||
			(rc = getKeyJsonValueFromContainer(v.val.binary.data, "recipient", 9, NULL)) == NULL ||
			ch->type != jbvString || rc->type != jbvString)
			error = pstrdup("not an object {channel, recipient}");
		else
		{
			d.channel = pnstrdup(ch->val.string.val, ch->val.string.len);
			d.recipient = pnstrdup(rc->val.string.val, rc->val.string.len);
			url = getKeyJsonValueFromContainer(v.val.binary.data, "webhook_url", 11, NULL);
			d.webhook_url = url && url->type == jbvString ?
				pnstrdup(url->val.string.val, url->val.string.len) : NULL;
			error = ts_worker_try(ts_deliver, &d);
		}
		if (error)
			appendStringInfo(&run->problems, "%srecipient %d not enqueued: %s",
							 run->problems.len ? "; " : "", i, error);
		i++;
	}
}

/* Records the outcome of a due time; returns the attempts it has had. */
static int
ts_record_run(TsRun *run, const char *status, const char *error)
{
	Oid			types[9] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID,
	INT8OID, INT4OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[9];
	char		nulls[9] = "         ";
	bool		isnull;
	int			ret;

	values[0] = Int64GetDatum(run->s->id);
	values[1] = TimestampTzGetDatum(run->due);
	values[2] = TimestampTzGetDatum(run->start);
	values[3] = TimestampTzGetDatum(run->end);
	values[4] = CStringGetTextDatum(status);
	values[5] = Int64GetDatum(run->report_id);
	nulls[5] = run->report_id ? ' ' : 'n';
	values[6] = Int32GetDatum(run->enqueued);
	values[7] = error ? CStringGetTextDatum(error) : (Datum) 0;
	nulls[7] = error ? ' ' : 'n';
	/* now() as a value: on Citus (a reference table) DO UPDATE takes immutable functions only */
	values[8] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s.support_troubleshooting_report_schedule_runs AS r"
										 " (schedule_id, due_at, period_start, period_end, status, report_id,"
										 "  notifications, error)"
										 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
										 " ON CONFLICT (schedule_id, due_at) DO UPDATE SET status = EXCLUDED.status,"
										 "  attempts = r.attempts + 1, report_id = EXCLUDED.report_id,"
										 "  notifications = EXCLUDED.notifications, error = EXCLUDED.error, ran_at = $9"
										 " RETURNING attempts", run->schema),
								9, types, values, nulls, false, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "could not record the schedule run: %s", SPI_result_code_string(ret));
	return DatumGetInt32(ts_col(0, 1, &isnull));
}

/* Moves a schedule's next_run_at. */
static void
ts_set_next_run(const char *schema, int64 id, TimestampTz next)
{
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		values[2] = {Int64GetDatum(id), TimestampTzGetDatum(next)};

	if (SPI_execute_with_args(psprintf("UPDATE %s.support_troubleshooting_report_schedules"
									   " SET next_run_at = $2 WHERE id = $1", schema),
							  2, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update the schedule's next run");
}

/* Reads the schedule in row 0 of the SPI result. */
static TsSchedule *
ts_read_schedule(void)
{
	TsSchedule *s = palloc0(sizeof(TsSchedule));
	bool		isnull;
	Datum		d;

	s->id = DatumGetInt64(ts_col(0, 1, &isnull));
	s->name = ts_col_text(0, 2);
	s->report_type = ts_col_text(0, 3);
	s->timing.frequency = ts_schedule_frequency(ts_col_text(0, 4));
	s->timing.time_of_day = DatumGetTimeADT(ts_col(0, 5, &isnull));
	s->timing.time_zone = ts_col_text(0, 6);
	d = ts_col(0, 7, &isnull);
	s->timing.weekday = isnull ? 0 : DatumGetInt16(d);
	d = ts_col(0, 8, &isnull);
	s->timing.month_day = isnull ? 0 : DatumGetInt16(d);
	s->format = ts_col_text(0, 9);
	s->recipients = DatumGetJsonbPCopy(ts_col(0, 10, &isnull));
	s->filters = DatumGetJsonbPCopy(ts_col(0, 11, &isnull));
	s->include_charts = DatumGetBool(ts_col(0, 12, &isnull));
	return s;
}

/*
 * Runs the most overdue enabled schedule, if any, in the caller's
 * transaction; returns false when none is due.
 */
static bool
ts_run_one_schedule(const char *schema)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TsSchedule *s;
	TsRun		run;
	Oid			types[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		values[2];
	char	   *error;
	int			attempts = 0;
	int			ret;
	bool		isnull;

	ret = SPI_execute(psprintf("SELECT id, name, report_type, frequency, time_of_day, time_zone,"
							   " weekday, month_day, format, recipients, filters, include_charts"
							   " FROM %s.support_troubleshooting_report_schedules"
							   " WHERE enabled AND next_run_at <= now()"
							   " ORDER BY next_run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED", schema),
					  false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the report schedules: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	s = ts_read_schedule();

	/* only the latest due time: after downtime, one report, not one per missed run */
	memset(&run, 0, sizeof(run));
	run.schema = schema;
	run.s = s;
	run.due = ts_schedule_due(&s->timing, now, false);
	ts_schedule_period(s->timing.frequency, s->timing.time_zone, run.due, &run.start, &run.end);

	values[0] = Int64GetDatum(s->id);
	values[1] = TimestampTzGetDatum(run.due);
	ret = SPI_execute_with_args(psprintf("SELECT status = 'done', attempts"
										 " FROM %s.support_troubleshooting_report_schedule_runs"
										 " WHERE schedule_id = $1 AND due_at = $2", schema),
								2, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the schedule runs: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		if (DatumGetBool(ts_col(0, 1, &isnull)))
			attempts = TS_SCHEDULE_MAX_ATTEMPTS;	/* done already: just move on */
		else
			attempts = DatumGetInt32(ts_col(0, 2, &isnull));
	}
	if (attempts >= TS_SCHEDULE_MAX_ATTEMPTS)
	{
		ts_set_next_run(schema, s->id, ts_schedule_due(&s->timing, now, true));
		return true;
	}

	error = ts_worker_try(ts_run_schedule, &run);
	if (error == NULL)
	{
		const char *problems = run.problems.len ? run.problems.data : NULL;

		(void) ts_record_run(&run, "done", problems);
		ts_set_next_run(schema, s->id, ts_schedule_due(&s->timing, now, true));
		if (problems)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("report schedule \"%s\": report " INT64_FORMAT " sent to %d of its recipients",
							s->name, run.report_id, run.enqueued),
					 errdetail("%s", problems)));
		else
			ereport(LOG,
					(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
					 errmsg("report schedule \"%s\": report " INT64_FORMAT " sent to %d recipients",
							s->name, run.report_id, run.enqueued)));
	}
	else
	{
		TimestampTz next = ts_schedule_due(&s->timing, now, true);
		TimestampTz retry;

		run.report_id = 0;
		run.enqueued = 0;
		attempts = ts_record_run(&run, "failed", error);
		retry = now + (TimestampTz) attempts * TS_SCHEDULE_RETRY_MINUTES * USECS_PER_MINUTE;
		if (attempts < TS_SCHEDULE_MAX_ATTEMPTS && retry < next)
			next = retry;
		ts_set_next_run(schema, s->id, next);
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("report schedule \"%s\" failed (attempt %d of %d)", s->name, attempts,
						TS_SCHEDULE_MAX_ATTEMPTS),
				 errdetail("%s", error),
				 attempts < TS_SCHEDULE_MAX_ATTEMPTS ?
				 errhint("It is tried again in %d minutes.", attempts * TS_SCHEDULE_RETRY_MINUTES) :
				 errhint("This due time is given up; the schedule waits for its next one.")));
	}
	return true;
}

/*
 * The maintenance worker's step: runs due schedules, each in its own short
 * transaction (at most TS_SCHEDULES_PER_STEP; more wake the worker again),
 * and deletes run records older than 90 days once an hour.
 */
void
ts_report_schedules_step(void)
{
	static TimestampTz last_prune = 0;
	MemoryContext outer = CurrentMemoryContext;

	for (int i = 0; i < TS_SCHEDULES_PER_STEP; i++)
	{
		bool		ran = false;
		Oid			nspid;

		nspid = ts_worker_begin();
		if (OidIsValid(nspid))
		{
			const char *schema = quote_identifier(get_namespace_name(nspid));

			pgstat_report_activity(STATE_RUNNING, "running due report schedules");
			/* the report's queries come before the schedule's update (Citus) */
			ts_citus_sequential();
			if (i == 0 && TimestampDifferenceExceeds(last_prune, GetCurrentTimestamp(), 3600 * 1000))
			{
				if (SPI_execute(psprintf("DELETE FROM %s.support_troubleshooting_report_schedule_runs"
										 " WHERE ran_at < now() - interval '90 days'", schema),
								false, 0) != SPI_OK_DELETE)
					elog(ERROR, "could not delete old schedule runs");
				last_prune = GetCurrentTimestamp();
			}
			ran = ts_run_one_schedule(schema);
		}
		ts_worker_end();
		MemoryContextSwitchTo(outer);
		if (!ran)
			return;
	}
	SetLatch(MyLatch);			/* more may be due: the next run comes at once */
}
