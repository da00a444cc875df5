/*
 * shmem.c
 *	  The shared memory the notification subsystem owns (dispatcher latch
 *	  and counters), waking the dispatcher when a transaction that enqueued
 *	  something commits, and troubleshooting_dispatcher_stats().
 */
#include "postgres.h"

#include "compat.h"
#include "notify/shmem.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(troubleshooting_dispatcher_stats);
PG_FUNCTION_INFO_V1(ts_notify_wake);

TsShared   *ts_shared = NULL;

static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
#ifdef TS_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static bool ts_wake_at_commit = false;
static bool ts_xact_callback_registered = false;

/* Asks for the shared memory (PG 15+: from shmem_request_hook). */
static void
ts_shmem_request(void)
{
#ifdef TS_HAVE_SHMEM_REQUEST_HOOK
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(MAXALIGN(sizeof(TsShared)));
}

/* Creates or attaches to the shared state. */
static void
ts_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ts_shared = ShmemInitStruct("troubleshooting", sizeof(TsShared), &found);
	if (!found)
	{
		memset(ts_shared, 0, sizeof(TsShared));
		SpinLockInit(&ts_shared->mutex);
		pg_atomic_init_u64(&ts_shared->sent, 0);
		pg_atomic_init_u64(&ts_shared->failed, 0);
		pg_atomic_init_u64(&ts_shared->retried, 0);
		pg_atomic_init_u32(&ts_shared->in_flight, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Installs the shared memory hooks (called from _PG_init when preloaded). */
void
ts_shmem_init(void)
{
#ifdef TS_HAVE_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ts_shmem_request;
#else
	ts_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ts_shmem_startup;
}

/* At commit, sets the dispatcher's latch if this transaction enqueued. */
static void
ts_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && ts_wake_at_commit && ts_shared)
	{
		Latch	   *latch;

		SpinLockAcquire(&ts_shared->mutex);
		latch = ts_shared->dispatcher_latch;
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

/* troubleshooting_dispatcher_stats(): the dispatcher's counters. */
Datum
troubleshooting_dispatcher_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[6];
	bool		isnull[6] = {0};
	int			pid;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	if (ts_shared == NULL)
	{
		/* not preloaded: no dispatcher, no counters */
		v[0] = BoolGetDatum(false);
		for (int i = 1; i < 6; i++)
			isnull[i] = true;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, isnull)));
	}
	SpinLockAcquire(&ts_shared->mutex);
	pid = ts_shared->dispatcher_pid;
	v[5] = TimestampTzGetDatum(ts_shared->last_error_at);
	isnull[5] = (ts_shared->last_error_at == 0);
	SpinLockRelease(&ts_shared->mutex);
	/*
	 * the dispatcher clears its pid at exit; one that died without doing so
	 * is no longer in the process array
	 */
	v[0] = BoolGetDatum(pid != 0 && BackendPidGetProc(pid) != NULL);
	v[1] = Int64GetDatum((int64) pg_atomic_read_u64(&ts_shared->sent));
	v[2] = Int64GetDatum((int64) pg_atomic_read_u64(&ts_shared->failed));
	v[3] = Int64GetDatum((int64) pg_atomic_read_u64(&ts_shared->retried));
	v[4] = Int32GetDatum((int32) pg_atomic_read_u32(&ts_shared->in_flight));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, isnull)));
}
