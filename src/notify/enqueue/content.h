/*
 * content.h
 *	  Checks of and additions to a notification's content at enqueue
 *	  (attachments, SMS length, idempotency keys, the tracking pixel).
 */
#ifndef TS_CONTENT_H
#define TS_CONTENT_H

#include "postgres.h"
#include "utils/jsonb.h"

/* Total decoded size of an e-mail's attachments. */
#define TS_ATTACHMENTS_MAX_BYTES (10 * 1024 * 1024)
/* Longest SMS body, in characters. */
#define TS_SMS_MAX_CHARS 1600
/* Longest idempotency key: 1 to 200 characters from A-Z a-z 0-9 . _ : @ - */
#define TS_IDEMPOTENCY_KEY_MAX 200

extern void ts_check_attachments(const char *channel, Jsonb *metadata);
extern bool ts_is_mime_type(const char *s, int len);
extern bool ts_is_key_char(unsigned char c);
extern void ts_check_idempotency_key(const char *key);
extern void ts_check_sms_length(const char *body);
extern char *ts_new_tracking_token(void);
extern char *ts_add_tracking_pixel(const char *body, const char *url, const char *token);

#endif							/* TS_CONTENT_H */
