/*
 * wake.h
 *	  Shared state of the notification subsystem: for each served database
 *	  its dispatcher's latch (set at commit when something was enqueued)
 *	  and counters, and the outbound transfer slots every dispatcher of
 *	  the server shares (the concurrency caps hold across databases).
 */
#ifndef TS_WAKE_H
#define TS_WAKE_H

#include "postgres.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "datatype/timestamp.h"

typedef struct TsDispatcherState
{
	Oid			dboid;			/* InvalidOid: unused */
	Latch	   *latch;			/* NULL while no dispatcher runs */
	int			pid;
	pg_atomic_uint64 sent;
	pg_atomic_uint64 failed;
	pg_atomic_uint64 retried;
	pg_atomic_uint32 in_flight;
	TimestampTz last_error_at;	/* under the shared mutex */
}			TsDispatcherState;

/* this process's dispatcher state: set in a dispatcher, NULL elsewhere */
extern TsDispatcherState *ts_my_dispatcher;

extern void ts_dispatcher_shmem_init(int ndatabases);
extern void ts_request_wake(void);
extern void ts_dispatcher_attach(void);
extern void ts_dispatcher_error_seen(void);
extern bool ts_outbound_reserve(uint64 host, int max_total, int max_host, bool *tracked);
extern void ts_outbound_release(uint64 host, bool tracked);

#endif							/* TS_WAKE_H */
