/*
 * wire.h
 *	  Encodings shared by the request builders: header tokens, form fields,
 *	  JSON members.
 */
#ifndef TS_WIRE_H
#define TS_WIRE_H

#include "postgres.h"
#include "lib/stringinfo.h"

extern char *ts_header_token(const char *key, const char *keep, char **error);
extern void ts_form_escape(StringInfo buf, const char *s);
extern void ts_form_field(StringInfo buf, const char *name, const char *value);
extern void ts_json_pair(StringInfo buf, const char *key, const char *value);
extern void ts_json_member(StringInfo buf, const char *key, const char *value);

#endif							/* TS_WIRE_H */
