/*
 * registry.c
 *	  The launcher's shared memory.  A slot per served database (at most
 *	  troubleshooting.max_databases) holds the database's oid, what its
 *	  maintenance worker found (extension installed or absent) and the pids
 *	  of its workers; a short list holds requests from backends: "look at
 *	  this database again" (left at the commit of CREATE EXTENSION) and
 *	  "stand aside" (left by DROP DATABASE and the other commands that need
 *	  a database without connections; see utility.c).  Every field is read
 *	  and written under one spinlock.
 */
#include "postgres.h"

#include "compat.h"
#include "worker/registry.h"
#include "base/shmem.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include <signal.h>

#define TS_MAX_REQUESTS 64
#define TS_PAUSE_WAIT_MS 10000	/* a backend waits this long for the workers to leave */
#define TS_PAUSE_MAX_MS 60000	/* a pause left behind expires after this */

typedef enum TsRequestKind
{
	TS_REQUEST_NONE = 0,
	TS_REQUEST_PROBE,
	TS_REQUEST_PAUSE
}			TsRequestKind;

typedef struct TsRequest
{
	TsRequestKind kind;
	Oid			dboid;
	int			pid;			/* the backend that asked */
	TimestampTz at;
}			TsRequest;

typedef struct TsDbSlot
{
	Oid			dboid;			/* InvalidOid: free */
	TsDbFinding finding;
	int			pids[TS_WORKER_KINDS];
}			TsDbSlot;

typedef struct TsRegistry
{
	slock_t		mutex;
	Latch	   *launcher_latch;
	int			nslots;
	TsRequest	requests[TS_MAX_REQUESTS];
	TsDbSlot	slots[FLEXIBLE_ARRAY_MEMBER];
}			TsRegistry;

static TsRegistry *ts_registry = NULL;
static int	ts_registry_nslots = 0;
static bool ts_probe_at_commit = false;
static bool ts_xact_callback_registered = false;
static int	ts_my_slot = -1;
static TsDbWorkerKind ts_my_kind;

/* Fills the new registry (zeroed by base/shmem.c). */
static void
ts_registry_fill(void *area)
{
	TsRegistry *registry = (TsRegistry *) area;

	SpinLockInit(&registry->mutex);
	registry->nslots = ts_registry_nslots;
}

/* Asks for the registry with nslots databases (from _PG_init when preloaded). */
void
ts_registry_shmem_init(int nslots)
{
	ts_registry_nslots = nslots;
	ts_shmem_area_add("troubleshooting launcher",
					  add_size(offsetof(TsRegistry, slots), mul_size(nslots, sizeof(TsDbSlot))),
					  (void **) &ts_registry, ts_registry_fill);
}

/* Sets the launcher's latch (outside the spinlock: SetLatch may signal). */
static void
ts_registry_wake(void)
{
	Latch	   *latch;

	SpinLockAcquire(&ts_registry->mutex);
	latch = ts_registry->launcher_latch;
	SpinLockRelease(&ts_registry->mutex);
	if (latch)
		SetLatch(latch);
}

/* At the launcher's exit: no one to wake any more. */
static void
ts_registry_launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&ts_registry->mutex);
	if (ts_registry->launcher_latch == MyLatch)
		ts_registry->launcher_latch = NULL;
	SpinLockRelease(&ts_registry->mutex);
}

/*
 * The launcher starts: it takes the latch, and the workers an earlier
 * launcher left running (it exited, the postmaster restarted it) are asked
 * to stop and waited for, so that every slot starts free and no database
 * is served twice.
 */
void
ts_registry_launcher_attach(void)
{
	SpinLockAcquire(&ts_registry->mutex);
	ts_registry->launcher_latch = MyLatch;
	SpinLockRelease(&ts_registry->mutex);
	before_shmem_exit(ts_registry_launcher_detach, (Datum) 0);

	for (int waited = 0;; waited += 100)
	{
		int			pids[64];
		int			left = 0;

		SpinLockAcquire(&ts_registry->mutex);
		for (int i = 0; i < ts_registry->nslots; i++)
			for (int k = 0; k < TS_WORKER_KINDS; k++)
				if (ts_registry->slots[i].pids[k] != 0)
				{
					if (left < (int) lengthof(pids))
						pids[left] = ts_registry->slots[i].pids[k];
					left++;
				}
		SpinLockRelease(&ts_registry->mutex);
		if (left == 0 || waited >= TS_PAUSE_WAIT_MS)
			break;
		for (int i = 0; i < Min(left, (int) lengthof(pids)); i++)
				(void) kill(pids[i], SIGTERM);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	SpinLockAcquire(&ts_registry->mutex);
	for (int i = 0; i < ts_registry->nslots; i++)
		memset(&ts_registry->slots[i], 0, sizeof(TsDbSlot));
	SpinLockRelease(&ts_registry->mutex);
}

/* Takes a free slot for dboid; -1 when troubleshooting.max_databases are served. */
int
ts_registry_slot_alloc(Oid dboid)
{
	int			slot = -1;

	SpinLockAcquire(&ts_registry->mutex);
	for (int i = 0; i < ts_registry->nslots && slot < 0; i++)
		if (!OidIsValid(ts_registry->slots[i].dboid))
		{
			memset(&ts_registry->slots[i], 0, sizeof(TsDbSlot));
			ts_registry->slots[i].dboid = dboid;
			slot = i;
		}
	SpinLockRelease(&ts_registry->mutex);
	return slot;
}

/* Frees a slot whose workers have stopped. */
void
ts_registry_slot_free(int slot)
{
	SpinLockAcquire(&ts_registry->mutex);
	memset(&ts_registry->slots[slot], 0, sizeof(TsDbSlot));
	SpinLockRelease(&ts_registry->mutex);
}

/* What the slot's maintenance worker found. */
TsDbFinding
ts_registry_finding(int slot)
{
	TsDbFinding f;

	SpinLockAcquire(&ts_registry->mutex);
	f = ts_registry->slots[slot].finding;
	SpinLockRelease(&ts_registry->mutex);
	return f;
}

/* True (and the request gone) when a backend asked to look at dboid again. */
bool
ts_registry_take_probe(Oid dboid)
{
	bool		found = false;

	SpinLockAcquire(&ts_registry->mutex);
	for (int i = 0; i < TS_MAX_REQUESTS; i++)
		if (ts_registry->requests[i].kind == TS_REQUEST_PROBE && ts_registry->requests[i].dboid == dboid)
		{
			ts_registry->requests[i].kind = TS_REQUEST_NONE;
			found = true;
		}
	SpinLockRelease(&ts_registry->mutex);
	return found;
}

/*
 * True while a backend wants dboid's workers away: it paused them less
 * than TS_PAUSE_MAX_MS ago (a command that failed withdraws its pause; one
 * whose transaction failed after it lets it expire).  An expired pause is
 * dropped.
 */
bool
ts_registry_paused(Oid dboid, TimestampTz now)
{
	bool		paused = false;

	SpinLockAcquire(&ts_registry->mutex);
	for (int i = 0; i < TS_MAX_REQUESTS; i++)
	{
		TsRequest  *r = &ts_registry->requests[i];

		if (r->kind != TS_REQUEST_PAUSE || r->dboid != dboid)
			continue;
		if (!TimestampDifferenceExceeds(r->at, now, TS_PAUSE_MAX_MS))
			paused = true;
		else
			r->kind = TS_REQUEST_NONE;
	}
	SpinLockRelease(&ts_registry->mutex);
	return paused;
}

/* Drops every request about a database that no longer exists. */
void
ts_registry_forget_pauses(Oid dboid)
{
	SpinLockAcquire(&ts_registry->mutex);
	for (int i = 0; i < TS_MAX_REQUESTS; i++)
		if (ts_registry->requests[i].dboid == dboid)
			ts_registry->requests[i].kind = TS_REQUEST_NONE;
	SpinLockRelease(&ts_registry->mutex);
}

/* At a database worker's exit: its pid leaves the slot, the launcher wakes. */
static void
ts_registry_worker_detach(int code, Datum arg)
{
	SpinLockAcquire(&ts_registry->mutex);
	if (ts_registry->slots[ts_my_slot].pids[ts_my_kind] == MyProcPid)
		ts_registry->slots[ts_my_slot].pids[ts_my_kind] = 0;
	SpinLockRelease(&ts_registry->mutex);
	ts_registry_wake();
}

/*
 * A database worker starts in its slot (its bgw_main_arg): its pid goes in
 * and is taken out again at exit.  Returns the database it serves, from
 * the slot's copy in bgw_extra.
 */
Oid
ts_registry_worker_attach(int slot, TsDbWorkerKind kind)
{
	Oid			dboid;

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	if (ts_registry == NULL || slot < 0 || slot >= ts_registry->nslots)
		elog(FATAL, "troubleshooting worker started without a valid slot");
	ts_my_slot = slot;
	ts_my_kind = kind;
	SpinLockAcquire(&ts_registry->mutex);
	ts_registry->slots[slot].pids[kind] = MyProcPid;
	SpinLockRelease(&ts_registry->mutex);
	before_shmem_exit(ts_registry_worker_detach, (Datum) 0);
	return dboid;
}

/* The maintenance worker tells the launcher what it found. */
void
ts_registry_report(int slot, TsDbFinding finding)
{
	bool		changed;

	SpinLockAcquire(&ts_registry->mutex);
	changed = (ts_registry->slots[slot].finding != finding);
	ts_registry->slots[slot].finding = finding;
	SpinLockRelease(&ts_registry->mutex);
	if (changed)
		ts_registry_wake();
}

/*
 * Adds a request (the caller holds the mutex and wakes the launcher after
 * releasing it); a full list overwrites a probe, or else the first entry.
 */
static void
ts_registry_add_locked(TsRequestKind kind, Oid dboid)
{
	int			free_at = -1;

	for (int i = 0; i < TS_MAX_REQUESTS && free_at < 0; i++)
		if (ts_registry->requests[i].kind == TS_REQUEST_NONE)
			free_at = i;
	for (int i = 0; i < TS_MAX_REQUESTS && free_at < 0; i++)
		if (ts_registry->requests[i].kind == TS_REQUEST_PROBE)
			free_at = i;
	if (free_at < 0)
		free_at = 0;
	ts_registry->requests[free_at].kind = kind;
	ts_registry->requests[free_at].dboid = dboid;
	ts_registry->requests[free_at].pid = MyProcPid;
	ts_registry->requests[free_at].at = GetCurrentTimestamp();
}

/* At commit, asks the launcher to look at this database again. */
static void
ts_registry_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && ts_probe_at_commit && ts_registry)
	{
		SpinLockAcquire(&ts_registry->mutex);
		ts_registry_add_locked(TS_REQUEST_PROBE, MyDatabaseId);
		SpinLockRelease(&ts_registry->mutex);
		ts_registry_wake();
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		ts_probe_at_commit = false;
}

/*
 * Notes that the launcher should look at this database again when this
 * transaction commits (CREATE or DROP EXTENSION troubleshooting ran).
 */
void
ts_registry_probe_at_commit(void)
{
	if (ts_registry == NULL)
		return;
	if (!ts_xact_callback_registered)
	{
		RegisterXactCallback(ts_registry_xact_callback, NULL);
		ts_xact_callback_registered = true;
	}
	ts_probe_at_commit = true;
}

/* True while some slot serves dboid. */
static bool
ts_registry_serving(Oid dboid)
{
	bool		serving = false;

	SpinLockAcquire(&ts_registry->mutex);
	for (int i = 0; i < ts_registry->nslots; i++)
		if (ts_registry->slots[i].dboid == dboid)
			serving = true;
	SpinLockRelease(&ts_registry->mutex);
	return serving;
}

/*
 * Asks the launcher to stop dboid's workers and keep them away, and waits
 * (at most TS_PAUSE_WAIT_MS) until they are gone: DROP DATABASE and the
 * other commands that need a database nobody is connected to call this
 * first.  Without a launcher there is nothing to wait for.
 */
void
ts_registry_pause(Oid dboid)
{
	bool		launcher;

	if (ts_registry == NULL || !OidIsValid(dboid))
		return;
	SpinLockAcquire(&ts_registry->mutex);
	launcher = (ts_registry->launcher_latch != NULL);
	ts_registry_add_locked(TS_REQUEST_PAUSE, dboid);
	SpinLockRelease(&ts_registry->mutex);
	if (!launcher)
		return;
	ts_registry_wake();
	for (int waited = 0; waited < TS_PAUSE_WAIT_MS && ts_registry_serving(dboid); waited += 50)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 50, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Withdraws this backend's pause of dboid (the command failed or is done). */
void
ts_registry_unpause(Oid dboid)
{
	if (ts_registry == NULL)
		return;
	SpinLockAcquire(&ts_registry->mutex);
	for (int i = 0; i < TS_MAX_REQUESTS; i++)
	{
		TsRequest  *r = &ts_registry->requests[i];

		if (r->kind == TS_REQUEST_PAUSE && r->dboid == dboid && r->pid == MyProcPid)
			r->kind = TS_REQUEST_NONE;
	}
	SpinLockRelease(&ts_registry->mutex);
	ts_registry_wake();
}

/* True while a maintenance worker of this server folds dboid's metric changes. */
bool
ts_registry_serves(Oid dboid)
{
	bool		serves = false;

	if (ts_registry == NULL)
		return false;
	SpinLockAcquire(&ts_registry->mutex);
	for (int i = 0; i < ts_registry->nslots; i++)
		if (ts_registry->slots[i].dboid == dboid &&
			ts_registry->slots[i].finding == TS_DB_INSTALLED &&
			ts_registry->slots[i].pids[TS_WORKER_MAINTENANCE] != 0)
			serves = true;
	SpinLockRelease(&ts_registry->mutex);
	return serves;
}
