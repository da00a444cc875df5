/*
 * maintenance.c
 *	  The maintenance background worker: connects to troubleshooting.database,
 *	  finds the extension there (idling while it is absent), and every
 *	  troubleshooting.maintenance_naptime folds pending metric deltas into the
 *	  hourly rollups, times out idle sessions and, every
 *	  cleanup_interval_minutes, deletes data past retention a batch per table
 *	  at a time; one short transaction per run.  Then, in their own short
 *	  transactions, it runs due report schedules and requests executive
 *	  summaries (src/report/schedule.c, llm.c).  An error is logged and the loop goes on; it never turns into a
 *	  crash loop.
 */
#include "postgres.h"

#include "compat.h"
#include "config.h"
#include "extschema.h"
#include "maintenance.h"
#include "report/report.h"

#include "access/xact.h"
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

char	   *ts_database = NULL;

extern int64 ts_cleanup_step(void);
static TimestampTz ts_last_cleanup = 0;
static int	ts_last_interval = -1;
int			ts_maintenance_naptime = 1000;

/*
 * Defines the settings the maintenance worker reads.  A PGC_POSTMASTER
 * setting can only be created while the library is preloaded.
 */
void
ts_maintenance_define_gucs(bool preloading)
{
	if (preloading)
		DefineCustomStringVariable("troubleshooting.database",
								   "Database the troubleshooting background workers connect to.",
								   NULL, &ts_database, "postgres",
								   PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.maintenance_naptime",
							"Time between two runs of the maintenance worker.",
							"Each run folds pending metric changes into the hourly rollups and times out idle sessions.",
							&ts_maintenance_naptime, 1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

/*
 * Registers one of the extension's background workers (a database-connected
 * worker of this library, started once recovery has finished).
 */
void
ts_register_worker(const char *function, const char *name, int restart_seconds)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = restart_seconds;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "troubleshooting");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", name);
	RegisterBackgroundWorker(&worker);
}

/* Registers the maintenance worker (called from _PG_init when preloaded). */
void
ts_maintenance_register(void)
{
	ts_register_worker("ts_maintenance_main", "troubleshooting maintenance", 5);
}

/* Opens a worker's unit of work: transaction, SPI connection, snapshot. */
void
ts_worker_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

/* Closes a worker's unit of work: commits and reports the worker idle. */
void
ts_worker_end(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* One run: fold metric deltas, retention when due, time out idle sessions. */
static void
ts_maintenance_run(void)
{
	Oid			nspid;
	int			ret;

	ts_worker_begin();

	nspid = ts_extension_schema(true);
	if (OidIsValid(nspid))
	{
		const char *query = psprintf("SELECT %s.refresh_troubleshooting_metrics()",
									 quote_identifier(get_namespace_name(nspid)));
		int			interval;

		pgstat_report_activity(STATE_RUNNING, "folding metric deltas");
		ret = SPI_execute(query, false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "refresh_troubleshooting_metrics failed: %s", SPI_result_code_string(ret));
		/* retention on its schedule: a batch per table, in this short transaction */
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
		pgstat_report_activity(STATE_RUNNING, "expiring idle sessions");
		ret = SPI_execute(psprintf("SELECT %s.expire_troubleshooting_sessions()",
								   quote_identifier(get_namespace_name(nspid))), false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "expire_troubleshooting_sessions failed: %s", SPI_result_code_string(ret));
	}

	ts_worker_end();

	/* reports: due schedules, then LLM summaries (network outside any transaction) */
	if (OidIsValid(nspid))
	{
		ts_report_schedules_step();
		ts_report_llm_step();
	}
}

/* Entry point of the maintenance worker. */
void
ts_maintenance_main(Datum arg)
{
	MemoryContext loopcxt;
	volatile int failures = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(ts_database, NULL, 0);

	loopcxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting maintenance loop",
									ALLOCSET_DEFAULT_SIZES);
	elog(LOG, "troubleshooting maintenance worker started in database \"%s\"", ts_database);

	for (;;)
	{
		/* after failures, back off (up to 64 naptimes, at most a minute) */
		long		wait = Min((long) ts_maintenance_naptime << Min(failures, 6), 60000L);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(wait, ts_maintenance_naptime), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(loopcxt);
		PG_TRY();
		{
			ts_maintenance_run();
			failures = 0;
		}
		PG_CATCH();
		{
			/* log it, roll back, and try again next time round */
			MemoryContextSwitchTo(loopcxt);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			pgstat_report_activity(STATE_IDLE, NULL);
			failures++;
		}
		PG_END_TRY();
		MemoryContextReset(loopcxt);
	}
}
