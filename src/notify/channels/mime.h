/*
 * mime.h
 *	  E-mail messages (RFC 5322, MIME) and multipart/form-data fields.
 */
#ifndef TS_MIME_H
#define TS_MIME_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "notify/channels/provider_input.h"

extern char *ts_addr_spec(const char *s);
extern char *ts_display_name(const char *s);
extern char *ts_boundary(const char *what);
extern char *ts_mime_message(TsNotification *n, const char *from, const char *html, const char *text,
							 List *attachments, const char *message_id, TimestampTz at);
extern void ts_multipart_field(StringInfo b, const char *boundary, const char *name, const char *filename,
							   const char *type, const char *value, int len);

#endif							/* TS_MIME_H */
