/*
 * json_write.h
 *	  Appending JSON text to a StringInfo (json_write.c): keys, strings,
 *	  numerics and timestamps, null where a value is missing.
 */
#ifndef TS_BASE_JSON_WRITE_H
#define TS_BASE_JSON_WRITE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/numeric.h"

extern void ts_json_key(StringInfo out, bool *first, const char *key);
extern void ts_json_object_begin(StringInfo out, bool first);
extern void ts_json_numeric(StringInfo out, Numeric n);
extern void ts_json_text(StringInfo out, const char *s);
extern void ts_json_timestamptz(StringInfo out, TimestampTz t);
extern void ts_json_key_int(StringInfo out, bool *first, const char *key, int64 v);
extern void ts_json_key_numeric(StringInfo out, bool *first, const char *key, Numeric n);
extern void ts_json_key_text(StringInfo out, bool *first, const char *key, const char *s);

#endif							/* TS_BASE_JSON_WRITE_H */
