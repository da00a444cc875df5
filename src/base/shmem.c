/*
 * shmem.c
 *	  Named areas of shared memory: each module that needs one (the
 *	  launcher's registry, the dispatchers' shared state) adds it from
 *	  _PG_init with its size; one pair of hooks asks the server for all of
 *	  them (shmem_request_hook on PostgreSQL 15 and later) and creates or
 *	  attaches to them at start-up, zeroed and filled by the module.
 */
#include "postgres.h"

#include "compat.h"
#include "base/shmem.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#define TS_SHMEM_MAX_AREAS 4

/* One area a module asked for. */
typedef struct TsShmemArea
{
	const char *name;
	Size		size;
	void	  **area;
	TsShmemInit init;
} TsShmemArea;

static TsShmemArea ts_areas[TS_SHMEM_MAX_AREAS];
static int	ts_nareas = 0;

static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
#ifdef TS_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif

#ifdef TS_HAVE_SHMEM_REQUEST_HOOK
/* Asks the server for every area (from shmem_request_hook). */
static void
ts_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	for (int i = 0; i < ts_nareas; i++)
		RequestAddinShmemSpace(MAXALIGN(ts_areas[i].size));
}
#endif

/* Creates or attaches to every area; a new one is zeroed and filled. */
static void
ts_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (int i = 0; i < ts_nareas; i++)
	{
		TsShmemArea *a = &ts_areas[i];
		bool		found;

		*a->area = ShmemInitStruct(a->name, a->size, &found);
		if (!found)
		{
			memset(*a->area, 0, a->size);
			if (a->init)
				a->init(*a->area);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Adds an area of size bytes, found under name; *area points to it once
 * the server has started (called from _PG_init when preloaded).
 */
void
ts_shmem_area_add(const char *name, Size size, void **area, TsShmemInit init)
{
	if (ts_nareas == TS_SHMEM_MAX_AREAS)
		elog(ERROR, "too many shared memory areas");
	ts_areas[ts_nareas++] = (TsShmemArea) {name, size, area, init};
#ifndef TS_HAVE_SHMEM_REQUEST_HOOK
	RequestAddinShmemSpace(MAXALIGN(size));
#endif
	if (ts_nareas > 1)
		return;
#ifdef TS_HAVE_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ts_shmem_request;
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ts_shmem_startup;
}
