/*
 * template.h
 *	  The Mustache renderer used for notification subjects and bodies.
 */
#ifndef TS_TEMPLATE_H
#define TS_TEMPLATE_H

#include "postgres.h"
#include "utils/jsonb.h"

typedef enum TsEscape
{
	TS_ESCAPE_NONE,				/* plain text and markdown */
	TS_ESCAPE_HTML,
	TS_ESCAPE_JSON				/* contents of a JSON string */
} TsEscape;

/* Returns the source of partial `name`, or NULL when there is none. */
typedef char *(*TsPartialLookup) (const char *name, void *arg);

extern void ts_template_check(const char *src, const char *what);
extern char *ts_template_render(const char *src, const char *what, Jsonb *data,
								TsEscape escape, TsPartialLookup lookup, void *lookup_arg);
extern TsEscape ts_escape_from_name(const char *name);

#endif							/* TS_TEMPLATE_H */
