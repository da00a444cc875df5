/*
 * registry.h
 *	  The launcher's shared memory: which databases have worker slots, what
 *	  their maintenance worker found, and the requests backends leave for
 *	  the launcher (look again after CREATE EXTENSION, stand aside while a
 *	  database is dropped, renamed, moved or copied).
 */
#ifndef TS_REGISTRY_H
#define TS_REGISTRY_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* What a database's maintenance worker found. */
typedef enum TsDbFinding
{
	TS_DB_UNKNOWN = 0,			/* not looked yet */
	TS_DB_INSTALLED,			/* the extension is there: the dispatcher may start */
	TS_DB_ABSENT				/* no extension: the workers exit */
}			TsDbFinding;

/* Which of a database's workers a process is. */
typedef enum TsDbWorkerKind
{
	TS_WORKER_MAINTENANCE = 0,
	TS_WORKER_DISPATCHER,
	TS_WORKER_KINDS
}			TsDbWorkerKind;

extern void ts_registry_shmem_init(int nslots);

/* the launcher */
extern void ts_registry_launcher_attach(void);
extern int	ts_registry_slot_alloc(Oid dboid);
extern void ts_registry_slot_free(int slot);
extern TsDbFinding ts_registry_finding(int slot);
extern bool ts_registry_take_probe(Oid dboid);
extern bool ts_registry_paused(Oid dboid, TimestampTz now);
extern void ts_registry_forget_pauses(Oid dboid);

/* a database's worker */
extern Oid	ts_registry_worker_attach(int slot, TsDbWorkerKind kind);
extern void ts_registry_report(int slot, TsDbFinding finding);

/* any backend */
extern void ts_registry_probe_at_commit(void);
extern void ts_registry_pause(Oid dboid);
extern void ts_registry_unpause(Oid dboid);
extern bool ts_registry_serves(Oid dboid);

#endif							/* TS_REGISTRY_H */
