/*
 * prometheus.c
 *	  GET /metrics: sessions by status, the realtime KPIs, notifications by
 *	  channel and status, the queue, the dispatcher's counters and the HTTP
 *	  worker's own answers, in the Prometheus text exposition format 0.0.4.
 *	  Read in the request's transaction, as troubleshooting.http_role.
 */
#include "postgres.h"

#include "access/xlog.h"

#include "compat.h"
#include "http/prometheus.h"
#include "notify/channel_table.h"

#include "executor/spi.h"

/* Runs one of our queries and checks it returned rows. */
static void
ts_prom_query(const char *sql)
{
	int			ret = SPI_execute(sql, true, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "unexpected result of \"%s\": %s", sql, SPI_result_code_string(ret));
}

/* A value of the last result as a sample value: NaN when null. */
static const char *
ts_prom_value(uint64 row, int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return v ? v : "NaN";
}

/* Appends the HELP and TYPE lines of a metric family. */
static void
ts_prom_family(StringInfo buf, const char *name, const char *type, const char *help)
{
	appendStringInfo(buf, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Appends a label value, escaping backslash, double quote and line feed. */
static void
ts_prom_label(StringInfo buf, const char *value)
{
	appendStringInfoChar(buf, '"');
	for (const char *p = value; *p; p++)
	{
		if (*p == '\\')
			appendStringInfoString(buf, "\\\\");
		else if (*p == '"')
			appendStringInfoString(buf, "\\\"");
		else if (*p == '\n')
			appendStringInfoString(buf, "\\n");
		else
			appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '"');
}

/* A metric family with one unlabelled sample. */
typedef struct TsPromFamily
{
	const char *name;
	const char *type;			/* gauge or counter */
	const char *help;
} TsPromFamily;

/*
 * Appends n families with one unlabelled sample each: family i's sample is
 * column i + 1 of row 0 of the last result.
 */
static void
ts_prom_singles(StringInfo buf, const TsPromFamily *families, int n)
{
	for (int i = 0; i < n; i++)
	{
		ts_prom_family(buf, families[i].name, families[i].type, families[i].help);
		appendStringInfo(buf, "%s %s\n", families[i].name, ts_prom_value(0, i + 1));
	}
}

/*
 * Appends the samples of family name, one per row of the last result: the
 * first nlabels columns are the values of labels, the next one the sample.
 */
static void
ts_prom_labelled(StringInfo buf, const char *name, const char *const *labels, int nlabels)
{
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		appendStringInfoString(buf, name);
		for (int l = 0; l < nlabels; l++)
		{
			appendStringInfo(buf, "%s%s=", l == 0 ? "{" : ",", labels[l]);
			ts_prom_label(buf, ts_prom_value(i, l + 1));
		}
		appendStringInfo(buf, "} %s\n", ts_prom_value(i, nlabels + 1));
	}
}

/* troubleshooting_sessions{status}: every status, zero included. */
static void
ts_prom_sessions(StringInfo buf, const char *nsp)
{
	static const char *const labels[] = {"status"};

	ts_prom_query(psprintf("SELECT k.status, coalesce(c.n, 0)"
						   " FROM unnest('{started,in_progress,resolved,escalated,abandoned,timed_out}'::text[])"
						   "      WITH ORDINALITY k(status, o)"
						   " LEFT JOIN (SELECT status, count(*) AS n FROM %s.support_troubleshooting_sessions"
						   "            GROUP BY status) c USING (status)"
						   " ORDER BY k.o", nsp));
	ts_prom_family(buf, "troubleshooting_sessions", "gauge", "Sessions by current status.");
	ts_prom_labelled(buf, "troubleshooting_sessions", labels, lengthof(labels));
}

/* The realtime KPIs (ts_realtime_kpis(), the view's source). */
static void
ts_prom_kpis(StringInfo buf, const char *nsp)
{
	static const TsPromFamily families[] = {
		{"troubleshooting_active_sessions", "gauge", "Sessions started or in progress."},
		{"troubleshooting_resolved_last_hour", "gauge", "Sessions resolved in the last hour."},
		{"troubleshooting_escalated_last_hour", "gauge", "Sessions escalated in the last hour."},
		{"troubleshooting_average_rating_24h", "gauge",
		"Average feedback rating (1 to 5) of the last 24 hours; NaN without feedback."},
	};

	ts_prom_query(psprintf("SELECT active_sessions, resolved_last_hour, escalated_last_hour, avg_rating_24h"
						   " FROM %s.ts_realtime_kpis()", nsp));
	ts_prom_singles(buf, families, lengthof(families));
}

/* troubleshooting_notifications{channel,status}, the pending queue and its oldest row. */
static void
ts_prom_notifications(StringInfo buf, const char *nsp)
{
	static const char *const labels[] = {"channel", "status"};
	static const TsPromFamily queue[] = {
		{"troubleshooting_notification_queue_depth", "gauge",
		"Notifications waiting to be sent (status pending)."},
		{"troubleshooting_notification_oldest_pending_seconds", "gauge",
		"Age of the oldest pending notification; 0 when none is pending."},
	};

	ts_prom_query(psprintf("SELECT ch.channel, st.status, coalesce(n.n, 0)"
						   " FROM unnest('%s'::text[])"
						   "      WITH ORDINALITY ch(channel, o1)"
						   " CROSS JOIN unnest('{pending,sending,sent,delivered,read,failed,cancelled}'::text[])"
						   "      WITH ORDINALITY st(status, o2)"
						   " LEFT JOIN (SELECT channel, status, count(*) AS n"
						   "            FROM %s.support_troubleshooting_notifications GROUP BY 1, 2) n"
						   "      ON n.channel = ch.channel AND n.status = st.status"
						   " ORDER BY ch.o1, st.o2", ts_channel_sql_array(true), nsp));
	ts_prom_family(buf, "troubleshooting_notifications", "gauge",
				   "Notifications in the outbox by channel and status.");
	ts_prom_labelled(buf, "troubleshooting_notifications", labels, lengthof(labels));

	ts_prom_query(psprintf("SELECT count(*),"
						   " coalesce(greatest(extract(epoch FROM now() - min(created_at)), 0), 0)::float8"
						   " FROM %s.support_troubleshooting_notifications WHERE status = 'pending'", nsp));
	ts_prom_singles(buf, queue, lengthof(queue));
}

/* The dispatcher's state and its counters since the server started. */
static void
ts_prom_dispatcher(StringInfo buf, const char *nsp)
{
	static const TsPromFamily families[] = {
		{"troubleshooting_dispatcher_running", "gauge", "1 while the dispatcher worker runs."},
		{"troubleshooting_dispatcher_in_flight", "gauge", "Transfers the dispatcher has in flight."},
		{"troubleshooting_dispatcher_sent_total", "counter",
		"Notifications the dispatcher sent since the server started."},
		{"troubleshooting_dispatcher_failed_total", "counter",
		"Notifications that failed for good since the server started."},
		{"troubleshooting_dispatcher_retried_total", "counter",
		"Attempts scheduled for a retry since the server started."},
		{"troubleshooting_dispatcher_last_error_timestamp_seconds", "gauge",
		"Unix time of the dispatcher's last failed attempt; 0 when none."},
	};

	ts_prom_query(psprintf("SELECT running::int, in_flight, sent, failed, retried,"
						   " coalesce(extract(epoch FROM last_error_at)::float8, 0)"
						   " FROM %s.troubleshooting_dispatcher_stats()", nsp));
	ts_prom_singles(buf, families, lengthof(families));
}

/* GET /metrics: every family above plus troubleshooting_http_requests_total. */
void
ts_http_prometheus(struct MHD_Connection *conn, const char *nsp, const void *arg,
				   TsHttpReply *reply)
{
	StringInfo	buf = &reply->body;

	ts_prom_sessions(buf, nsp);
	ts_prom_kpis(buf, nsp);
	ts_prom_notifications(buf, nsp);
	ts_prom_dispatcher(buf, nsp);
	ts_prom_family(buf, "troubleshooting_standby", "gauge",
				   "1 while the server is a hot standby (read endpoints only, no dispatcher), 0 on a primary.");
	appendStringInfo(buf, "troubleshooting_standby %d\n", RecoveryInProgress() ? 1 : 0);
	ts_prom_family(buf, "troubleshooting_http_requests_total", "counter",
				   "Requests the HTTP endpoint answered since its worker started, by status code.");
	ts_http_append_request_counts(buf);

	reply->status = 200;
	reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
