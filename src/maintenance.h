/*
 * maintenance.h
 *	  The maintenance background worker and its settings.
 */
#ifndef TS_MAINTENANCE_H
#define TS_MAINTENANCE_H

extern char *ts_database;
extern int	ts_maintenance_naptime;

extern void ts_maintenance_define_gucs(bool preloading);
extern void ts_maintenance_register(void);
/* the search_path every background worker runs with */
#define TS_WORKER_SEARCH_PATH "pg_catalog, pg_temp"

extern void ts_worker_connect(void);
extern void ts_worker_begin(void);
extern void ts_worker_end(void);
extern void ts_register_worker(const char *function, const char *name, int restart_seconds);

#endif							/* TS_MAINTENANCE_H */
