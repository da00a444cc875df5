/*
 * extschema.h
 *	  Locating the extension's own schema, tables and columns from C.
 */
#ifndef TS_EXTSCHEMA_H
#define TS_EXTSCHEMA_H

#include "postgres.h"

#include "access/tupdesc.h"

#define TS_EXTENSION_NAME "troubleshooting"

extern Oid	ts_extension_schema(bool missing_ok);
extern Oid	ts_extension_schema_locked(void);
extern Oid	ts_extension_relid(const char *relname, bool missing_ok);
extern char *ts_qualified_name(Oid nspid, const char *relname);
extern int	ts_column_number(TupleDesc desc, const char *relname, const char *colname);

#endif							/* TS_EXTSCHEMA_H */
