/*
 * worker.h
 *	  The skeleton every background worker of the extension shares:
 *	  registration (static at preload, dynamic from the launcher), signal
 *	  handling, connecting with search_path pinned, units of work.
 */
#ifndef TS_WORKER_H
#define TS_WORKER_H

#include "postgres.h"

#include "postmaster/bgworker.h"

/* the search_path every background worker runs with */
#define TS_WORKER_SEARCH_PATH "pg_catalog, pg_temp"

extern void ts_worker_register_static(const char *function, const char *name,
									  BgWorkerStartTime start_time, int restart_seconds);
extern bool ts_worker_start_dynamic(const char *function, const char *name, Oid dboid,
									int slot, BackgroundWorkerHandle **handle);
extern void ts_worker_init_signals(void);
extern void ts_worker_connect(const char *dbname, Oid dboid);
extern Oid	ts_worker_begin(void);
extern void ts_worker_end(void);
extern bool ts_worker_reload_pending(void);
extern char *ts_worker_try(void (*fn) (void *), void *arg);

#endif							/* TS_WORKER_H */
