/*
 * shmem.h
 *	  Named areas of shared memory that modules ask for from _PG_init.
 */
#ifndef TS_BASE_SHMEM_H
#define TS_BASE_SHMEM_H

#include "postgres.h"

/* fills a new, zeroed area (once, in the postmaster) */
typedef void (*TsShmemInit) (void *area);

extern void ts_shmem_area_add(const char *name, Size size, void **area, TsShmemInit init);

#endif							/* TS_BASE_SHMEM_H */
