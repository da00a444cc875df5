/*
 * shmem.h
 *	  Shared state between backends and the dispatcher: its latch (set at
 *	  commit when something was enqueued) and its counters.
 */
#ifndef TS_SHMEM_H
#define TS_SHMEM_H

#include "postgres.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/spin.h"
#include "datatype/timestamp.h"

typedef struct TsShared
{
	slock_t		mutex;
	Latch	   *dispatcher_latch;	/* NULL while no dispatcher runs */
	int			dispatcher_pid;
	pg_atomic_uint64 sent;
	pg_atomic_uint64 failed;
	pg_atomic_uint64 retried;
	pg_atomic_uint32 in_flight;
	TimestampTz last_error_at;
} TsShared;

extern TsShared *ts_shared;

extern void ts_shmem_init(void);
extern void ts_request_wake(void);

#endif							/* TS_SHMEM_H */
