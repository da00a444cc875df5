/*
 * launcher.c
 *	  The launcher, one per server (started once recovery has finished, so
 *	  a hot standby runs none until it is promoted).  Connected to no
 *	  database, it reads pg_database every second (and whenever a backend
 *	  or worker wakes it) and, for every database that accepts connections
 *	  and is listed by troubleshooting.database (every database when that
 *	  is empty), starts a maintenance worker in a slot of the registry.
 *	  That worker looks for the extension: where it is installed the
 *	  launcher adds the dispatcher; where it is not, both leave and the
 *	  database is looked at again only after a CREATE EXTENSION there (the
 *	  registry's probe request) or when it reappears.  Workers that exit
 *	  are restarted after their restart interval; a dropped, unlisted or
 *	  paused database (DROP DATABASE, see utility.c) loses its workers.
 *	  Slots are bounded by troubleshooting.max_databases and by the
 *	  server's free background worker slots; a database that gets none is
 *	  logged once and tried again later.
 */
#include "postgres.h"

#include "worker/launcher.h"
#include "worker/registry.h"
#include "worker/worker.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

PGDLLEXPORT void ts_launcher_main(Datum arg);

#define TS_LAUNCHER_NAPTIME_MS 1000
#define TS_NO_SLOT_RETRY_MS 10000	/* a database without a worker slot tries again */
#define TS_MAINTENANCE_RESTART_MS 5000
#define TS_ABSENT_GRACE_MS 5000	/* a dispatcher left to notice a dropped extension */

char	   *ts_database = NULL;
int			ts_max_databases = 8;
static int	ts_dispatcher_restart_interval = 1;

/* What the launcher knows of a database. */
typedef enum TsLaunchState
{
	TS_LAUNCH_PROBE,			/* start the maintenance worker: it looks */
	TS_LAUNCH_ABSENT			/* no extension: nothing runs */
}			TsLaunchState;

typedef struct TsLaunchDb
{
	Oid			dboid;			/* hash key */
	char		name[NAMEDATALEN];
	TsLaunchState state;
	bool		seen;			/* in the last read of pg_database */
	bool		eligible;		/* connectable, listed, not paused */
	int			slot;			/* registry slot, -1 without */
	BackgroundWorkerHandle *handles[TS_WORKER_KINDS];
	TimestampTz retry_at[TS_WORKER_KINDS];
	bool		told_no_slot;	/* "no slot" logged since the last success */
	bool		probe_again;	/* asked to look again while its workers still ran */
	TimestampTz absent_at;		/* when its maintenance worker found no extension */
}			TsLaunchDb;

static HTAB *ts_launch_dbs = NULL;

/* Checks troubleshooting.database: a comma-separated list of database names. */
static bool
ts_database_check(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names = NIL;
	bool		ok = SplitGUCList(raw, ',', &names);

	if (!ok)
		GUC_check_errdetail("List syntax is invalid.");
	list_free(names);
	pfree(raw);
	return ok;
}

/*
 * Defines the launcher's settings.  The slot count sizes shared memory,
 * so it (and the launcher itself) exists only while the library is
 * preloaded.
 */
void
ts_launcher_define_gucs(bool preloading)
{
	if (!preloading)
		return;
	DefineCustomStringVariable("troubleshooting.database",
							   "Databases the troubleshooting background workers serve (empty = every database with the extension).",
							   "A comma-separated list of database names, compared exactly.",
							   &ts_database, "", PGC_SIGHUP, GUC_LIST_INPUT,
							   ts_database_check, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.max_databases",
							"Databases the background workers serve at once at most.",
							"Each served database runs two background workers (maintenance and dispatcher) out of max_worker_processes.",
							&ts_max_databases, 8, 1, 256, PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.dispatcher_restart_interval",
							"Time before the launcher restarts a dispatcher that exited.", NULL,
							&ts_dispatcher_restart_interval, 1, 1, 3600, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* Registers the launcher (from _PG_init when preloaded). */
void
ts_launcher_register(void)
{
	ts_worker_register_static("ts_launcher_main", "troubleshooting launcher",
							  BgWorkerStart_RecoveryFinished, 5);
}

/* The names troubleshooting.database lists (NIL when it is empty). */
List *
ts_database_names(void)
{
	List	   *names = NIL;

	if (ts_database == NULL || ts_database[0] == '\0' ||
		!SplitGUCList(pstrdup(ts_database), ',', &names))
		return NIL;
	return names;
}

/* True when troubleshooting.database is empty or names dbname. */
bool
ts_database_listed(const char *dbname)
{
	List	   *names = ts_database_names();
	ListCell   *lc;

	if (names == NIL)
		return true;
	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), dbname) == 0)
			return true;
	return false;
}

/* Status of one of a database's workers: stopped when never started. */
static BgwHandleStatus
ts_launch_status(TsLaunchDb *db, TsDbWorkerKind kind)
{
	pid_t		pid;

	if (db->handles[kind] == NULL)
		return BGWH_STOPPED;
	return GetBackgroundWorkerPid(db->handles[kind], &pid);
}

/* Forgets a worker that has stopped. */
static void
ts_launch_forget(TsLaunchDb *db, TsDbWorkerKind kind)
{
	if (db->handles[kind] != NULL)
	{
		pfree(db->handles[kind]);
		db->handles[kind] = NULL;
	}
}

/*
 * Reads pg_database: marks every database seen, adds new ones (to be
 * looked at) and decides which may have workers.
 */
static void
ts_launch_scan(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	HASH_SEQ_STATUS seq;
	TsLaunchDb *db;
	TimestampTz now = GetCurrentTimestamp();

	hash_seq_init(&seq, ts_launch_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
		db->seen = db->eligible = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database form = (Form_pg_database) GETSTRUCT(tup);
		bool		found;

		CHECK_FOR_INTERRUPTS();
		db = hash_search(ts_launch_dbs, &form->oid, HASH_ENTER, &found);
		if (!found)
		{
			memset((char *) db + sizeof(Oid), 0, sizeof(TsLaunchDb) - sizeof(Oid));
			db->state = TS_LAUNCH_PROBE;
			db->slot = -1;
		}
		strlcpy(db->name, NameStr(form->datname), NAMEDATALEN);
		db->seen = true;
		/* a database half dropped has datconnlimit -2 */
		db->eligible = form->datallowconn && !form->datistemplate && form->datconnlimit != -2 &&
			ts_database_listed(db->name) && !ts_registry_paused(db->dboid, now);
		if (ts_registry_take_probe(db->dboid))
		{
			if (db->state == TS_LAUNCH_ABSENT)
				db->state = TS_LAUNCH_PROBE;
			else
				db->probe_again = true;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Starts one of a database's workers; false (logged once) without a free slot. */
static bool
ts_launch_start(TsLaunchDb *db, TsDbWorkerKind kind, TimestampTz now)
{
	static const char *const functions[] = {"ts_maintenance_main", "ts_dispatcher_main"};
	static const char *const names[] = {"troubleshooting maintenance", "troubleshooting dispatcher"};
	int			restart_ms = (kind == TS_WORKER_MAINTENANCE) ? TS_MAINTENANCE_RESTART_MS
		: ts_dispatcher_restart_interval * 1000;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	bool		ok;

	ts_launch_forget(db, kind);
	ok = ts_worker_start_dynamic(functions[kind], names[kind], db->dboid, db->slot, &db->handles[kind]);
	MemoryContextSwitchTo(old);
	if (!ok)
	{
		db->handles[kind] = NULL;
		db->retry_at[kind] = TimestampTzPlusMilliseconds(now, TS_NO_SLOT_RETRY_MS);
		if (!db->told_no_slot)
			ereport(LOG,
					(errmsg("troubleshooting: no background worker slot for the %s of database \"%s\"",
							names[kind] + strlen("troubleshooting "), db->name),
					 errhint("Raise max_worker_processes (each served database needs two slots); the launcher tries again every %d seconds.",
							 TS_NO_SLOT_RETRY_MS / 1000)));
		db->told_no_slot = true;
		return false;
	}
	db->retry_at[kind] = TimestampTzPlusMilliseconds(now, restart_ms);
	db->told_no_slot = false;
	return true;
}

/* Asks a database's workers to stop; true once none runs and the slot is free. */
static bool
ts_launch_stop(TsLaunchDb *db)
{
	bool		running = false;

	for (int k = 0; k < TS_WORKER_KINDS; k++)
	{
		if (ts_launch_status(db, k) != BGWH_STOPPED)
		{
			TerminateBackgroundWorker(db->handles[k]);
			running = true;
		}
		else
			ts_launch_forget(db, k);
	}
	if (running)
		return false;
	if (db->slot >= 0)
		ts_registry_slot_free(db->slot);
	db->slot = -1;
	return true;
}

/* Brings one eligible database's workers to where they should be. */
static void
ts_launch_serve(TsLaunchDb *db, TimestampTz now)
{
	TsDbFinding finding;

	if (db->slot < 0)
	{
		db->slot = ts_registry_slot_alloc(db->dboid);
		if (db->slot < 0)
		{
			if (!db->told_no_slot)
				ereport(LOG,
						(errmsg("troubleshooting: database \"%s\" gets no workers: troubleshooting.max_databases (%d) databases are served",
								db->name, ts_max_databases),
						 errhint("Raise troubleshooting.max_databases (and max_worker_processes), or list fewer databases in troubleshooting.database.")));
			db->told_no_slot = true;
			return;
		}
	}
	finding = ts_registry_finding(db->slot);
	if (finding == TS_DB_ABSENT)
	{
		/*
		 * no extension: both leave (the dispatcher notices by itself within
		 * a naptime; it is stopped after TS_ABSENT_GRACE_MS); look again
		 * after CREATE EXTENSION
		 */
		if (db->absent_at == 0)
			db->absent_at = now;
		if (ts_launch_status(db, TS_WORKER_DISPATCHER) != BGWH_STOPPED &&
			!TimestampDifferenceExceeds(db->absent_at, now, TS_ABSENT_GRACE_MS))
			return;
		if (ts_launch_stop(db))
		{
			/* a CREATE EXTENSION may have come while they were leaving */
			db->state = db->probe_again ? TS_LAUNCH_PROBE : TS_LAUNCH_ABSENT;
			db->probe_again = false;
			db->absent_at = 0;
			/* they left cleanly: the next look need not wait for a restart interval */
			memset(db->retry_at, 0, sizeof(db->retry_at));
		}
		return;
	}
	if (ts_launch_status(db, TS_WORKER_MAINTENANCE) == BGWH_STOPPED && now >= db->retry_at[TS_WORKER_MAINTENANCE])
		(void) ts_launch_start(db, TS_WORKER_MAINTENANCE, now);
	if (finding == TS_DB_INSTALLED &&
		ts_launch_status(db, TS_WORKER_DISPATCHER) == BGWH_STOPPED && now >= db->retry_at[TS_WORKER_DISPATCHER])
		(void) ts_launch_start(db, TS_WORKER_DISPATCHER, now);
}

/* One round: read pg_database, then start and stop workers. */
static void
ts_launch_round(void)
{
	HASH_SEQ_STATUS seq;
	TsLaunchDb *db;
	TimestampTz now;

	ts_launch_scan();
	now = GetCurrentTimestamp();
	hash_seq_init(&seq, ts_launch_dbs);
	while ((db = hash_seq_search(&seq)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (!db->eligible)
		{
			/* dropped, unlisted, not connectable or paused: no workers */
			if (ts_launch_stop(db) && !db->seen)
			{
				ts_registry_forget_pauses(db->dboid);
				(void) hash_search(ts_launch_dbs, &db->dboid, HASH_REMOVE, NULL);
			}
			else if (db->slot < 0)
				db->state = TS_LAUNCH_PROBE;	/* look again when it comes back */
			continue;
		}
		if (db->state == TS_LAUNCH_PROBE)
			ts_launch_serve(db, now);
	}
}

/* Entry point of the launcher. */
void
ts_launcher_main(Datum arg)
{
	HASHCTL		ctl;
	MemoryContext loopcxt;

	ts_worker_init_signals();
	ts_worker_connect(NULL, InvalidOid);	/* no database: pg_database only */
	ts_registry_launcher_attach();

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(TsLaunchDb);
	ts_launch_dbs = hash_create("troubleshooting launcher databases", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	loopcxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting launcher loop",
									ALLOCSET_DEFAULT_SIZES);
	elog(LOG, "troubleshooting launcher started");

	for (;;)
	{
		MemoryContextSwitchTo(loopcxt);
		(void) ts_worker_reload_pending();
		ts_launch_round();
		MemoryContextReset(loopcxt);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 TS_LAUNCHER_NAPTIME_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}
