/*
 * wake.c
 *	  The shared memory the notification subsystem owns: a state per served
 *	  database (its dispatcher's latch and counters) and the outbound
 *	  transfer slots all dispatchers share, so that
 *	  troubleshooting.dispatcher_concurrency and dispatcher_host_concurrency
 *	  cap the whole server, not each database.  Also waking a database's
 *	  dispatcher when a transaction that enqueued something there commits,
 *	  and troubleshooting_dispatcher_stats().
 */
#include "postgres.h"

#include "compat.h"
#include "notify/send/wake.h"
#include "base/shmem.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/procarray.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(troubleshooting_dispatcher_stats);
PG_FUNCTION_INFO_V1(ts_notify_wake);

#define TS_MAX_HOSTS 128		/* hosts tracked at once; more go by the per-dispatcher cap */

/* Transfers in flight to one host, server-wide. */
typedef struct TsHostCount
{
	uint64		host;			/* hash of the host name */
	int			count;			/* 0: unused */
}			TsHostCount;

typedef struct TsShared
{
	slock_t		mutex;
	int			total;			/* transfers in flight, every database */
	TsHostCount hosts[TS_MAX_HOSTS];
	int			nstates;
	TsDispatcherState states[FLEXIBLE_ARRAY_MEMBER];
}			TsShared;

static TsShared *ts_shared = NULL;
static int	ts_shared_nstates = 0;
TsDispatcherState *ts_my_dispatcher = NULL;

/* this dispatcher's own reservations, given back at exit */
static HTAB *ts_my_hosts = NULL;
static int	ts_my_total = 0;

static bool ts_wake_at_commit = false;
static bool ts_xact_callback_registered = false;

/* Fills the new shared state (zeroed by base/shmem.c). */
static void
ts_shared_fill(void *area)
{
	TsShared   *shared = (TsShared *) area;

	SpinLockInit(&shared->mutex);
	shared->nstates = ts_shared_nstates;
	for (int i = 0; i < ts_shared_nstates; i++)
	{
		pg_atomic_init_u64(&shared->states[i].sent, 0);
		pg_atomic_init_u64(&shared->states[i].failed, 0);
		pg_atomic_init_u64(&shared->states[i].retried, 0);
		pg_atomic_init_u32(&shared->states[i].in_flight, 0);
	}
}

/*
 * Asks for the shared state, with a dispatcher state for each of
 * ndatabases served databases (called from _PG_init when preloaded).
 */
void
ts_dispatcher_shmem_init(int ndatabases)
{
	ts_shared_nstates = ndatabases;
	ts_shmem_area_add("troubleshooting",
					  add_size(offsetof(TsShared, states), mul_size(ndatabases, sizeof(TsDispatcherState))),
					  (void **) &ts_shared, ts_shared_fill);
}

/* The state of this database's dispatcher, or NULL (the caller holds the mutex). */
static TsDispatcherState *
ts_state_of(Oid dboid)
{
	for (int i = 0; i < ts_shared->nstates; i++)
		if (ts_shared->states[i].dboid == dboid)
			return &ts_shared->states[i];
	return NULL;
}

/*
 * At a dispatcher's exit: it no longer runs, and the transfer slots it
 * held go back to the others.
 */
static void
ts_dispatcher_detach(int code, Datum arg)
{
	HASH_SEQ_STATUS seq;
	TsHostCount *h;

	SpinLockAcquire(&ts_shared->mutex);
	if (ts_my_dispatcher->pid == MyProcPid)
	{
		ts_my_dispatcher->latch = NULL;
		ts_my_dispatcher->pid = 0;
	}
	ts_shared->total -= ts_my_total;
	hash_seq_init(&seq, ts_my_hosts);
	while ((h = hash_seq_search(&seq)) != NULL)
		for (int i = 0; i < TS_MAX_HOSTS; i++)
			if (ts_shared->hosts[i].host == h->host && ts_shared->hosts[i].count > 0)
				ts_shared->hosts[i].count = Max(ts_shared->hosts[i].count - h->count, 0);
	SpinLockRelease(&ts_shared->mutex);
	pg_atomic_write_u32(&ts_my_dispatcher->in_flight, 0);
	ts_my_total = 0;
}

/*
 * A dispatcher takes its database's state (its counters survive a
 * restart; a database new to the server takes a free state, or the one of
 * a database whose dispatcher is gone): its latch is set by every commit
 * that enqueued there.
 */
void
ts_dispatcher_attach(void)
{
	HASHCTL		ctl;
	TsDispatcherState *s;

	SpinLockAcquire(&ts_shared->mutex);
	s = ts_state_of(MyDatabaseId);
	if (s == NULL)
		s = ts_state_of(InvalidOid);
	for (int i = 0; i < ts_shared->nstates && s == NULL; i++)
		if (ts_shared->states[i].pid == 0)
		{
			s = &ts_shared->states[i];
			pg_atomic_write_u64(&s->sent, 0);
			pg_atomic_write_u64(&s->failed, 0);
			pg_atomic_write_u64(&s->retried, 0);
			s->last_error_at = 0;
		}
	if (s != NULL)
	{
		s->dboid = MyDatabaseId;
		s->latch = MyLatch;
		s->pid = MyProcPid;
	}
	SpinLockRelease(&ts_shared->mutex);
	if (s == NULL)
		elog(FATAL, "no free dispatcher state in shared memory");
	ts_my_dispatcher = s;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(TsHostCount);
	ts_my_hosts = hash_create("troubleshooting hosts in flight", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	before_shmem_exit(ts_dispatcher_detach, (Datum) 0);
}

/* The dispatcher notes when its last error happened. */
void
ts_dispatcher_error_seen(void)
{
	SpinLockAcquire(&ts_shared->mutex);
	ts_my_dispatcher->last_error_at = GetCurrentTimestamp();
	SpinLockRelease(&ts_shared->mutex);
}

/*
 * Reserves a transfer slot for a transfer to host (a hash of its name):
 * false when max_total transfers are in flight on the server, or max_host
 * to that host, counting every database's dispatcher.  *tracked says
 * whether the host counter holds it (with more than TS_MAX_HOSTS hosts in
 * flight at once, a new host goes by the total alone).
 */
bool
ts_outbound_reserve(uint64 host, int max_total, int max_host, bool *tracked)
{
	TsHostCount *h = NULL;
	TsHostCount *mine;
	bool		found;

	SpinLockAcquire(&ts_shared->mutex);
	if (ts_shared->total >= max_total)
	{
		SpinLockRelease(&ts_shared->mutex);
		return false;
	}
	for (int i = 0; i < TS_MAX_HOSTS && h == NULL; i++)
		if (ts_shared->hosts[i].count > 0 && ts_shared->hosts[i].host == host)
			h = &ts_shared->hosts[i];
	if (h != NULL && h->count >= max_host)
	{
		SpinLockRelease(&ts_shared->mutex);
		return false;
	}
	for (int i = 0; i < TS_MAX_HOSTS && h == NULL; i++)
		if (ts_shared->hosts[i].count == 0)
		{
			h = &ts_shared->hosts[i];
			h->host = host;
		}
	if (h != NULL)
		h->count++;
	ts_shared->total++;
	SpinLockRelease(&ts_shared->mutex);

	*tracked = (h != NULL);
	ts_my_total++;
	if (*tracked)
	{
		mine = hash_search(ts_my_hosts, &host, HASH_ENTER, &found);
		if (!found)
			mine->count = 0;
		mine->count++;
	}
	pg_atomic_write_u32(&ts_my_dispatcher->in_flight, ts_my_total);
	return true;
}

/* Gives back a slot ts_outbound_reserve gave. */
void
ts_outbound_release(uint64 host, bool tracked)
{
	TsHostCount *mine;

	SpinLockAcquire(&ts_shared->mutex);
	ts_shared->total--;
	if (tracked)
		for (int i = 0; i < TS_MAX_HOSTS; i++)
			if (ts_shared->hosts[i].count > 0 && ts_shared->hosts[i].host == host)
			{
				ts_shared->hosts[i].count--;
				break;
			}
	SpinLockRelease(&ts_shared->mutex);
	ts_my_total--;
	if (tracked && (mine = hash_search(ts_my_hosts, &host, HASH_FIND, NULL)) != NULL &&
		--mine->count == 0)
		(void) hash_search(ts_my_hosts, &host, HASH_REMOVE, NULL);
	pg_atomic_write_u32(&ts_my_dispatcher->in_flight, ts_my_total);
}

/* At commit, sets this database's dispatcher's latch if this transaction enqueued. */
static void
ts_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && ts_wake_at_commit && ts_shared)
	{
		TsDispatcherState *s;
		Latch	   *latch = NULL;

		SpinLockAcquire(&ts_shared->mutex);
		s = ts_state_of(MyDatabaseId);
		if (s != NULL)
			latch = s->latch;
		SpinLockRelease(&ts_shared->mutex);
		if (latch)
			SetLatch(latch);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		ts_wake_at_commit = false;
}

/* Notes that the dispatcher should wake when this transaction commits. */
void
ts_request_wake(void)
{
	if (!ts_xact_callback_registered)
	{
		RegisterXactCallback(ts_xact_callback, NULL);
		ts_xact_callback_registered = true;
	}
	ts_wake_at_commit = true;
}

/* Statement trigger on the outbox: whatever inserted rows wakes the dispatcher. */
Datum
ts_notify_wake(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ts_notify_wake: not called as a trigger");
	ts_request_wake();
	return PointerGetDatum(NULL);
}

/*
 * troubleshooting_dispatcher_stats(): the counters of this database's
 * dispatcher since the server started.
 */
Datum
troubleshooting_dispatcher_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[6];
	bool		isnull[6] = {0};
	TsDispatcherState *s = NULL;
	int			pid = 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	if (ts_shared != NULL)
	{
		SpinLockAcquire(&ts_shared->mutex);
		s = ts_state_of(MyDatabaseId);
		if (s != NULL)
		{
			pid = s->pid;
			v[5] = TimestampTzGetDatum(s->last_error_at);
			isnull[5] = (s->last_error_at == 0);
		}
		SpinLockRelease(&ts_shared->mutex);
	}
	if (s == NULL)
	{
		/* not preloaded, or no dispatcher ever ran here: no counters */
		v[0] = BoolGetDatum(false);
		for (int i = 1; i < 6; i++)
			isnull[i] = true;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, isnull)));
	}
	/*
	 * the dispatcher clears its pid at exit; one that died without doing so
	 * is no longer in the process array
	 */
	v[0] = BoolGetDatum(pid != 0 && BackendPidGetProc(pid) != NULL);
	v[1] = Int64GetDatum((int64) pg_atomic_read_u64(&s->sent));
	v[2] = Int64GetDatum((int64) pg_atomic_read_u64(&s->failed));
	v[3] = Int64GetDatum((int64) pg_atomic_read_u64(&s->retried));
	v[4] = Int32GetDatum((int32) pg_atomic_read_u32(&s->in_flight));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, isnull)));
}
