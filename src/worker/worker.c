/*
 * worker.c
 *	  The skeleton of every background worker of the extension: how it is
 *	  registered (statically while the library is preloaded: the launcher
 *	  and the HTTP worker; dynamically by the launcher: each database's
 *	  maintenance and dispatcher workers), the signals it answers (SIGHUP
 *	  reloads the configuration at the next loop, SIGTERM ends it at the
 *	  next interrupt check), how it connects (as the bootstrap superuser,
 *	  search_path pinned) and its units of work (one transaction each, and
 *	  steps inside one that may fail alone, in a subtransaction).
 */
#include "postgres.h"

#include "worker/worker.h"
#include "base/extschema.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
#include "utils/resowner.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

/* Fills in what every worker of this library has in common. */
static void
ts_worker_fill(BackgroundWorker *worker, const char *function, const char *name)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	snprintf(worker->bgw_library_name, BGW_MAXLEN, "troubleshooting");
	snprintf(worker->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker->bgw_name, BGW_MAXLEN, "%s", name);
	snprintf(worker->bgw_type, BGW_MAXLEN, "%s", name);
}

/*
 * Registers a worker the postmaster starts itself (only while the library
 * is preloaded): at start_time, again restart_seconds after it exits.
 */
void
ts_worker_register_static(const char *function, const char *name,
						  BgWorkerStartTime start_time, int restart_seconds)
{
	BackgroundWorker worker;

	ts_worker_fill(&worker, function, name);
	worker.bgw_start_time = start_time;
	worker.bgw_restart_time = restart_seconds;
	RegisterBackgroundWorker(&worker);
}

/*
 * Starts a worker for database dboid now, told about its shared slot in
 * its argument; the caller (the launcher) is signalled when it starts and
 * stops, and restarts it itself.  False when no background worker slot of
 * max_worker_processes is free.
 */
bool
ts_worker_start_dynamic(const char *function, const char *name, Oid dboid, int slot,
						BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	ts_worker_fill(&worker, function, name);
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	worker.bgw_main_arg = Int32GetDatum(slot);
	memcpy(worker.bgw_extra, &dboid, sizeof(Oid));
	worker.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/*
 * Installs the signal handlers every worker uses and unblocks signals:
 * SIGHUP marks a reload (ts_worker_reload_pending), SIGTERM ends the
 * worker at its next CHECK_FOR_INTERRUPTS.
 */
void
ts_worker_init_signals(void)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
}

/* Reloads the configuration files when a SIGHUP asked for it; true then. */
bool
ts_worker_reload_pending(void)
{
	if (!ConfigReloadPending)
		return false;
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	return true;
}

/*
 * Connects a worker to a database (by name, or by oid when dbname is
 * NULL; neither: no database, shared catalogs only) as the bootstrap
 * superuser and pins its search_path to pg_catalog, pg_temp: neither the
 * database's default path nor a SET run by any SQL the worker executes can
 * put a user's schema (public, owned by the database owner) in front of
 * the catalog.  PGC_S_OVERRIDE outranks every later source (ALTER
 * DATABASE/ROLE SET, SET, set_config, a function's SET clause), so the pin
 * holds for the worker's life; every extension object the workers name is
 * qualified.
 */
void
ts_worker_connect(const char *dbname, Oid dboid)
{
	if (dbname != NULL || !OidIsValid(dboid))
		BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	else
		BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	SetConfigOption("search_path", TS_WORKER_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * Opens a worker's unit of work: transaction, a share lock on the extension
 * (so DROP EXTENSION waits for the unit rather than deadlocking with it; see
 * ts_extension_schema_locked), SPI connection, snapshot.  Returns the
 * extension's schema, or InvalidOid when it is not installed (a unit that
 * waited for a DROP finds it gone).
 */
Oid
ts_worker_begin(void)
{
	Oid			nspid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	nspid = ts_extension_schema_locked();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	return nspid;
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

/*
 * Runs fn(arg) in a subtransaction: NULL when it succeeded; otherwise the
 * subtransaction is rolled back and the error's message is returned (in the
 * caller's memory context), so one failing step does not end the unit of work.
 */
char *
ts_worker_try(void (*fn) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *volatile error = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		error = edata->message ? edata->message : pstrdup("unknown error");
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return error;
}
