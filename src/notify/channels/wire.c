/*
 * wire.c
 *	  Encodings shared by the request builders of every channel: the
 *	  idempotency key as a header token, form fields
 *	  (application/x-www-form-urlencoded) and members of JSON objects.
 */
#include "postgres.h"

#include "notify/channels/wire.h"
#include "notify/enqueue/content.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "utils/json.h"

/*
 * The idempotency key as a header token: A-Z a-z 0-9 _ - and the characters
 * of keep as they are, every other byte as =XX, so that no CR, LF or other
 * control character reaches a header whatever the row holds, and different
 * keys stay different.  NULL, with *error set, for a key longer than the
 * limit (only a row written around the table's constraint has one).
 */
char *
ts_header_token(const char *key, const char *keep, char **error)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		len = strlen(key);
	StringInfoData out;

	if (len > TS_IDEMPOTENCY_KEY_MAX)
	{
		*error = psprintf("the idempotency key is longer than %d bytes: not sent", TS_IDEMPOTENCY_KEY_MAX);
		return NULL;
	}
	initStringInfo(&out);
	for (const unsigned char *p = (const unsigned char *) key; *p; p++)
	{
		if ((ts_is_key_char(*p) && *p != '.' && *p != ':' && *p != '@') || strchr(keep, *p) != NULL)
			appendStringInfoChar(&out, *p);
		else
		{
			appendStringInfoChar(&out, '=');
			appendStringInfoChar(&out, hex[*p >> 4]);
			appendStringInfoChar(&out, hex[*p & 15]);
		}
	}
	return out.data;
}

/* Appends s percent-encoded for application/x-www-form-urlencoded. */
void
ts_form_escape(StringInfo buf, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			appendStringInfoChar(buf, *p);
		else
		{
			appendStringInfoChar(buf, '%');
			appendStringInfoChar(buf, hex[*p >> 4]);
			appendStringInfoChar(buf, hex[*p & 15]);
		}
	}
}

/* Appends name=value (encoded) to a form body. */
void
ts_form_field(StringInfo buf, const char *name, const char *value)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, '&');
	ts_form_escape(buf, name);
	appendStringInfoChar(buf, '=');
	ts_form_escape(buf, value);
}

/* Appends "key": "value" (JSON-escaped) to buf. */
void
ts_json_pair(StringInfo buf, const char *key, const char *value)
{
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	escape_json(buf, value);
}

/* Appends "key": "value" to a JSON object under construction (a comma first unless it opens it). */
void
ts_json_member(StringInfo buf, const char *key, const char *value)
{
	int			i = buf->len - 1;

	while (i >= 0 && buf->data[i] == ' ')
		i--;
	if (i >= 0 && buf->data[i] != '{' && buf->data[i] != ',' && buf->data[i] != '[')
		appendStringInfoString(buf, ", ");
	ts_json_pair(buf, key, value);
}
