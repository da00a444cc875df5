/*
 * maintenance.c
 *	  The maintenance background worker of one database, started by the
 *	  launcher (src/worker/launcher.c) in a slot of its own.  It looks for
 *	  the extension first: where there is none (or once it is dropped) it
 *	  tells the launcher and exits.  Otherwise, every
 *	  troubleshooting.maintenance_naptime, it runs its jobs: fold pending
 *	  metric deltas into the hourly rollups; every cleanup_interval_minutes
 *	  (or at a configuration reload), delete data past retention a batch per
 *	  table at a time; time out idle sessions; run due report schedules and
 *	  request executive summaries (src/report/schedule.c, llm.c).  Each job
 *	  runs in short transactions of its own: a failing job is logged with
 *	  its name, rolled back and retried after a back-off, the others go on,
 *	  and the worker never turns into a crash loop.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "citus/node.h"
#include "compat.h"
#include "config/config.h"
#include "report/report.h"
#include "retention/cleanup.h"
#include "worker/maintenance.h"
#include "worker/registry.h"
#include "worker/worker.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void ts_maintenance_main(Datum arg);

static TimestampTz ts_last_cleanup = 0;
static int	ts_last_interval = -1;
static bool ts_idle_logged = false;	/* the idling on a Citus worker was logged */
int			ts_maintenance_naptime = 1000;

/* Defines the settings the maintenance worker reads. */
void
ts_maintenance_define_gucs(void)
{
	DefineCustomIntVariable("troubleshooting.maintenance_naptime",
							"Time between two runs of the maintenance worker.",
							"Each run folds pending metric changes into the hourly rollups and times out idle sessions.",
							&ts_maintenance_naptime, 1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

/* Runs one of the extension's SQL functions in a transaction of its own. */
static void
ts_job_call(Oid nspid, const char *activity, const char *function)
{
	int			ret;

	if (!OidIsValid(ts_worker_begin()))
	{
		ts_worker_end();		/* dropped since this run began */
		return;
	}
	pgstat_report_activity(STATE_RUNNING, activity);
	/* (a schema dropped since nspid was found is an error, not a crash) */
	ret = SPI_execute(psprintf("SELECT %s()", ts_qualified_name(nspid, function)), false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "%s failed: %s", function, SPI_result_code_string(ret));
	ts_worker_end();
}

/* Folds pending metric deltas into the hourly rollups. */
static void
ts_job_fold(Oid nspid)
{
	ts_job_call(nspid, "folding metric deltas", "refresh_troubleshooting_metrics");
}

/*
 * Deletes data past retention when due: a batch per table in this short
 * transaction; with more left, the next batch comes at once.  A failed batch
 * leaves the schedule as it was, so the next round tries again.
 */
static void
ts_job_retention(Oid nspid)
{
	int			interval;

	(void) nspid;
	if (!OidIsValid(ts_worker_begin()))
	{
		ts_worker_end();		/* dropped since this run began */
		return;
	}
	interval = ts_config_get_int("cleanup_interval_minutes");
	if (interval != ts_last_interval)
	{
		ts_last_interval = interval;	/* a new schedule starts now */
		ts_last_cleanup = 0;
	}
	if (interval > 0 &&
		TimestampDifferenceExceeds(ts_last_cleanup, GetCurrentTimestamp(), interval * 60000))
	{
		pgstat_report_activity(STATE_RUNNING, "deleting data past retention");
		if (ts_cleanup_step() == 0)
			ts_last_cleanup = GetCurrentTimestamp();	/* done until the next interval */
		else
			SetLatch(MyLatch);	/* more to delete: next batch soon */
	}
	ts_worker_end();
}

/* Times out sessions idle for longer than their timeout. */
static void
ts_job_expire(Oid nspid)
{
	ts_job_call(nspid, "expiring idle sessions", "expire_troubleshooting_sessions");
}

/* Relays the live events queued on Citus worker nodes (none on a single server). */
static void
ts_job_relay(Oid nspid)
{
	ts_job_call(nspid, "relaying live events", "ts_relay_live_events");
}

/* Runs due report schedules (each in its own transactions). */
static void
ts_job_schedules(Oid nspid)
{
	(void) nspid;
	ts_report_schedules_step();
}

/* Requests executive summaries (network outside any transaction). */
static void
ts_job_summaries(Oid nspid)
{
	(void) nspid;
	ts_report_llm_step();
}

/*
 * The maintenance jobs, in the order of a run.  Each runs in transactions of
 * its own: a failing job is logged (its name in the CONTEXT line), rolled
 * back and retried on a later run, after a back-off of its own, while the
 * others go on.
 */
typedef struct TsMaintenanceJob
{
	const char *name;
	void		(*run) (Oid nspid);
	int			failures;		/* failed runs in a row */
	TimestampTz retry_at;		/* no new attempt before this */
}			TsMaintenanceJob;

static TsMaintenanceJob ts_jobs[] = {
	{.name = "fold metric deltas", .run = ts_job_fold},
	{.name = "retention", .run = ts_job_retention},
	{.name = "expire idle sessions", .run = ts_job_expire},
	{.name = "relay live events", .run = ts_job_relay},
	{.name = "report schedules", .run = ts_job_schedules},
	{.name = "executive summaries", .run = ts_job_summaries},
};

/* The wait after failures in a row: up to 64 naptimes, at most a minute. */
static long
ts_maintenance_backoff(int failures)
{
	return Min((long) ts_maintenance_naptime << Min(failures, 6), 60000L);
}

/* After an error: logs it, rolls back and goes back to cxt. */
static void
ts_maintenance_recover(MemoryContext cxt)
{
	MemoryContextSwitchTo(cxt);
	EmitErrorReport();
	FlushErrorState();
	AbortCurrentTransaction();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Error context callback: names the maintenance job that failed. */
static void
ts_job_error_context(void *arg)
{
	errcontext("troubleshooting maintenance job \"%s\"", ((TsMaintenanceJob *) arg)->name);
}

/* Runs one job; an error is logged, rolled back and backed off. */
static void
ts_job_run(TsMaintenanceJob *job, Oid nspid, MemoryContext cxt)
{
	ErrorContextCallback errcb;

	if (job->failures > 0 && GetCurrentTimestamp() < job->retry_at)
		return;

	errcb.callback = ts_job_error_context;
	errcb.arg = job;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	PG_TRY();
	{
		job->run(nspid);
		job->failures = 0;
	}
	PG_CATCH();
	{
		/* log it, roll back, and try again after a back-off */
		ts_maintenance_recover(cxt);
		job->failures++;
		job->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													ts_maintenance_backoff(job->failures));
	}
	PG_END_TRY();
	error_context_stack = errcb.previous;
	MemoryContextSwitchTo(cxt);
}

/*
 * One run: every job once, while the extension is installed.  Without it,
 * the launcher is told and the worker exits (the launcher starts it again
 * after a CREATE EXTENSION here).
 */
static void
ts_maintenance_run(MemoryContext cxt, int slot, bool *installed)
{
	Oid			nspid;
	char	   *dbname;
	TsCitusRole role = TS_CITUS_NONE;

	nspid = ts_worker_begin();
	dbname = get_database_name(MyDatabaseId);
	if (OidIsValid(nspid))
		role = ts_citus_role();
	ts_worker_end();
	MemoryContextSwitchTo(cxt);
	if (!OidIsValid(nspid))
	{
		ereport(*installed ? LOG : DEBUG1,
				(errmsg("troubleshooting maintenance worker exits: no extension in database \"%s\"",
						dbname ? dbname : "?")));
		ts_registry_report(slot, TS_DB_ABSENT);
		proc_exit(0);
	}
	if (!*installed)
		ereport(LOG,
				(errmsg("troubleshooting maintenance worker started in database \"%s\"", dbname)));
	*installed = true;
	ts_registry_report(slot, TS_DB_INSTALLED);
	if (role == TS_CITUS_WORKER)
	{
		/* the coordinator folds, expires and cleans the shards here */
		if (!ts_idle_logged)
			ereport(LOG,
					(errmsg("troubleshooting maintenance worker idles in database \"%s\": this node is a Citus worker",
							dbname)));
		ts_idle_logged = true;
		pgstat_report_activity(STATE_IDLE, "idle: Citus worker node");
		return;
	}
	ts_idle_logged = false;
	for (size_t i = 0; i < lengthof(ts_jobs); i++)
		ts_job_run(&ts_jobs[i], nspid, cxt);
}

/* Entry point of the maintenance worker: its slot is the argument. */
void
ts_maintenance_main(Datum arg)
{
	int			slot = DatumGetInt32(arg);
	MemoryContext loopcxt;
	volatile int failures = 0;
	static bool installed = false;

	ts_worker_init_signals();
	ts_worker_connect(NULL, ts_registry_worker_attach(slot, TS_WORKER_MAINTENANCE));

	loopcxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting maintenance loop",
									ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		/* after failures to even look for the extension, back off */
		long		wait = ts_maintenance_backoff(failures);

		CHECK_FOR_INTERRUPTS();
		if (ts_worker_reload_pending())
		{
			/* a reload also wakes every job: retention and backed-off ones run now */
			ts_last_cleanup = 0;
			for (size_t i = 0; i < lengthof(ts_jobs); i++)
				ts_jobs[i].retry_at = 0;
		}

		MemoryContextSwitchTo(loopcxt);
		PG_TRY();
		{
			ts_maintenance_run(loopcxt, slot, &installed);
			failures = 0;
		}
		PG_CATCH();
		{
			/* finding the extension failed: log it, roll back, go on */
			ts_maintenance_recover(loopcxt);
			failures++;
		}
		PG_END_TRY();
		MemoryContextReset(loopcxt);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(wait, ts_maintenance_naptime), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
