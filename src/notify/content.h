/*
 * content.h
 *	  Checks of and additions to a notification's content at enqueue.
 */
#ifndef TS_CONTENT_H
#define TS_CONTENT_H

#include "postgres.h"
#include "utils/jsonb.h"

/* Total decoded size of an e-mail's attachments. */
#define TS_ATTACHMENTS_MAX_BYTES (10 * 1024 * 1024)
/* Longest SMS body, in characters. */
#define TS_SMS_MAX_CHARS 1600

extern void ts_check_attachments(const char *channel, Jsonb *metadata);
extern void ts_check_sms_length(const char *body);
extern char *ts_new_tracking_token(void);
extern char *ts_add_tracking_pixel(const char *body, const char *url, const char *token);

#endif							/* TS_CONTENT_H */
