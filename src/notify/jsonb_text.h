/*
 * jsonb_text.h
 *	  String members of jsonb objects (metadata, settings, partials).
 */
#ifndef TS_JSONB_TEXT_H
#define TS_JSONB_TEXT_H

#include "postgres.h"
#include "utils/jsonb.h"

extern char *ts_jsonb_string(Jsonb *obj, const char *key);

#endif							/* TS_JSONB_TEXT_H */
