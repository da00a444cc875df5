/*
 * launcher.h
 *	  The launcher: one worker per server that starts each database's
 *	  maintenance and dispatcher workers, and its settings.
 */
#ifndef TS_LAUNCHER_H
#define TS_LAUNCHER_H

#include "postgres.h"

#include "nodes/pg_list.h"

extern char *ts_database;
extern int	ts_max_databases;

extern void ts_launcher_define_gucs(bool preloading);
extern void ts_launcher_register(void);
extern List *ts_database_names(void);
extern bool ts_database_listed(const char *dbname);

#endif							/* TS_LAUNCHER_H */
