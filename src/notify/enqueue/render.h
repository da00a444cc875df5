/*
 * render.h
 *	  Stored templates rendered for notifications, and the channel-name check.
 */
#ifndef TS_RENDER_H
#define TS_RENDER_H

#include "postgres.h"
#include "utils/jsonb.h"

/* A stored template rendered for a notification. */
typedef struct TsRendered
{
	char	   *subject;		/* NULL if the template has none */
	char	   *body;
	char	   *format;			/* text, markdown, html or json */
	char	   *text_body;		/* plain-text alternative, or NULL */
} TsRendered;

extern void ts_check_channel_name(const char *channel);
extern Jsonb *ts_empty_jsonb(void);
extern void ts_render_stored_full(const char *name, const char *channel, Jsonb *data,
								  TsRendered *out);

#endif							/* TS_RENDER_H */
