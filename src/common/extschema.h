/*
 * extschema.h
 *	  Locating the extension's own schema and tables from C.
 */
#ifndef TS_EXTSCHEMA_H
#define TS_EXTSCHEMA_H

#include "postgres.h"

#define TS_EXTENSION_NAME "troubleshooting"

extern Oid	ts_extension_schema(bool missing_ok);
extern Oid	ts_extension_relid(const char *relname, bool missing_ok);
extern char *ts_qualified_name(Oid nspid, const char *relname);

#endif							/* TS_EXTSCHEMA_H */
