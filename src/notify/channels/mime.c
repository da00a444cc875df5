/*
 * mime.c
 *	  E-mail messages and form bodies: the RFC 5322 message sent over SMTP
 *	  (multipart/alternative when it has an HTML part with a text
 *	  alternative, multipart/mixed with attachments, base64 bodies),
 *	  header values cleaned of control characters and RFC 2047 encoded,
 *	  address headers, random boundaries, and multipart/form-data fields.
 *	  Nothing from a row reaches a header unchecked.
 */
#include "postgres.h"

#include "compat.h"
#include "notify/channels/mime.h"
#include "notify/channels/wire.h"

#include <time.h>

#include "common/base64.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/timestamp.h"

/* The address inside "Name <addr>", or s itself. */
char *
ts_addr_spec(const char *s)
{
	const char *lt = strrchr(s, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;

	return gt ? pnstrdup(lt + 1, gt - lt - 1) : pstrdup(s);
}

/* The display name of "Name <addr>" (quotes trimmed), or NULL. */
char *
ts_display_name(const char *s)
{
	const char *lt = strrchr(s, '<');
	int			len;

	if (lt == NULL)
		return NULL;
	while (*s == ' ' || *s == '"')
		s++;
	len = lt - s;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '"'))
		len--;
	return len > 0 ? pnstrdup(s, len) : NULL;
}

/* Appends data base64-encoded in lines of 76 characters (CRLF). */
static void
ts_b64_lines(StringInfo m, const char *data, int len)
{
	for (int off = 0; off < len; off += 57)
	{
		char		enc[80];
		int			n = pg_b64_encode(data + off, Min(57, len - off), enc, sizeof(enc));

		appendBinaryStringInfo(m, enc, n);
		appendStringInfoString(m, "\r\n");
	}
}

/* True if s has only printable ASCII. */
static bool
ts_plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
			return false;
	return true;
}

/*
 * Appends a header value: CR, LF and other controls become spaces (no
 * header injection); non-ASCII text becomes RFC 2047 encoded words cut at
 * character boundaries.
 */
static void
ts_header_value(StringInfo m, const char *s)
{
	char	   *clean = pstrdup(s);
	int			len;
	int			off = 0;

	for (char *p = clean; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (ts_plain_ascii(clean))
	{
		appendStringInfoString(m, clean);
		return;
	}
	len = strlen(clean);
	while (off < len)
	{
		int			chunk = 0;
		char		enc[80];
		int			n;

		while (off + chunk < len && chunk + pg_mblen(clean + off + chunk) <= 42)
			chunk += pg_mblen(clean + off + chunk);
		if (chunk == 0)
			chunk = pg_mblen(clean + off);
		n = pg_b64_encode(clean + off, chunk, enc, sizeof(enc));
		appendStringInfo(m, "%s=?UTF-8?B?%.*s?=", off > 0 ? "\r\n " : "", n, enc);
		off += chunk;
	}
}

/* Appends "Name: value\r\n". */
static void
ts_header(StringInfo m, const char *name, const char *value)
{
	appendStringInfo(m, "%s: ", name);
	ts_header_value(m, value);
	appendStringInfoString(m, "\r\n");
}

/* Appends an address header: an encoded display name, the address as is. */
static void
ts_address_header(StringInfo m, const char *name, const char *value)
{
	char	   *display = ts_display_name(value);

	for (char *p = display; p && *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = ' ';			/* then quoted or encoded like any name */
	appendStringInfo(m, "%s: ", name);
	if (display == NULL)
		ts_header_value(m, ts_addr_spec(value));
	else
	{
		if (ts_plain_ascii(display))
		{
			/* a quoted string: quotes and backslashes escaped */
			appendStringInfoChar(m, '"');
			for (const char *p = display; *p; p++)
			{
				if (*p == '"' || *p == '\\')
					appendStringInfoChar(m, '\\');
				appendStringInfoChar(m, *p);
			}
			appendStringInfoChar(m, '"');
		}
		else
			ts_header_value(m, display);
		appendStringInfoString(m, " <");
		ts_header_value(m, ts_addr_spec(value));
		appendStringInfoChar(m, '>');
	}
	appendStringInfoString(m, "\r\n");
}

/* A fresh MIME boundary: "ts-", what, "-" and 32 random hex digits (nothing from the row). */
char *
ts_boundary(const char *what)
{
	uint32		r[4];

	for (int i = 0; i < 4; i++)
		r[i] = (uint32) (ts_random_double() * 4294967296.0);
	return psprintf("ts-%s-%08x%08x%08x%08x", what, r[0], r[1], r[2], r[3]);
}

/* Appends a text part (headers and base64 body). */
static void
ts_text_part(StringInfo m, const char *type, const char *text)
{
	appendStringInfo(m, "Content-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n", type);
	ts_b64_lines(m, text, strlen(text));
}

/* Appends a filename parameter: quoted ASCII, else RFC 2231 UTF-8. */
static void
ts_filename_param(StringInfo m, const char *param, const char *name)
{
	if (ts_plain_ascii(name) && strchr(name, '"') == NULL && strchr(name, '\\') == NULL)
		appendStringInfo(m, "%s=\"%s\"", param, name);
	else
	{
		appendStringInfo(m, "%s*=UTF-8''", param);
		ts_form_escape(m, name);
	}
}

/* RFC 5322 date of t in UTC. */
static char *
ts_rfc5322_date(TimestampTz t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t		secs = (time_t) timestamptz_to_time_t(t);
	struct tm	tm;

	gmtime_r(&secs, &tm);
	return psprintf("%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
					months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Builds the RFC 5322 message of an email notification. */
char *
ts_mime_message(TsNotification *n, const char *from, const char *html, const char *text,
				List *attachments, const char *message_id, TimestampTz at)
{
	StringInfoData m;
	char	   *mixed = attachments ? ts_boundary("m") : NULL;
	char	   *alt = html && text ? ts_boundary("a") : NULL;
	ListCell   *lc;

	initStringInfo(&m);
	ts_header(&m, "Date", ts_rfc5322_date(at));
	ts_address_header(&m, "From", from);
	ts_address_header(&m, "To", n->recipient);
	ts_header(&m, "Subject", n->subject ? n->subject : "");
	appendStringInfo(&m, "Message-ID: %s\r\nMIME-Version: 1.0\r\n", message_id);
	if (mixed)
		appendStringInfo(&m, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n", mixed, mixed);
	if (alt)
	{
		appendStringInfo(&m, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n--%s\r\n", alt, alt);
		ts_text_part(&m, "text/plain", text);
		appendStringInfo(&m, "--%s\r\n", alt);
		ts_text_part(&m, "text/html", html);
		appendStringInfo(&m, "--%s--\r\n", alt);
	}
	else
		ts_text_part(&m, html ? "text/html" : "text/plain", html ? html : text);
	foreach(lc, attachments)
	{
		TsAttachment *a = lfirst(lc);

		appendStringInfo(&m, "--%s\r\nContent-Type: %s; ", mixed, a->content_type);
		ts_filename_param(&m, "name", a->filename);
		appendStringInfoString(&m, "\r\nContent-Disposition: attachment; ");
		ts_filename_param(&m, "filename", a->filename);
		appendStringInfoString(&m, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
		ts_b64_lines(&m, a->data, a->len);
	}
	if (mixed)
		appendStringInfo(&m, "--%s--\r\n", mixed);
	return m.data;
}

/* Appends one multipart/form-data field (value may be binary). */
void
ts_multipart_field(StringInfo b, const char *boundary, const char *name, const char *filename,
				   const char *type, const char *value, int len)
{
	appendStringInfo(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"", boundary, name);
	if (filename)
	{
		appendStringInfoString(b, "; ");
		ts_filename_param(b, "filename", filename);
		appendStringInfo(b, "\r\nContent-Type: %s", type);
	}
	appendStringInfoString(b, "\r\n\r\n");
	appendBinaryStringInfo(b, value, len);
	appendStringInfoString(b, "\r\n");
}
