/*
 * providers.c
 *	  Email and SMS through providers (../shared/providers.md): builds the
 *	  request for SMTP (an RFC 5322 message, multipart when it has an HTML
 *	  part with a text alternative or attachments), SendGrid, Mailgun, Amazon
 *	  SES v2, Twilio and Amazon SNS from the channel's provider settings, with
 *	  secrets read from the settings or the server environment ("env:NAME").
 *	  The provider's answer is read in payload.c.
 *
 * Nothing from a row reaches a header unchecked: names and subjects are
 * cleaned of control characters and encoded, the Message-ID is the key as a
 * token (ts_header_token), boundaries are random, attachment types and the
 * SMTP envelope are checked again before use.
 */
#include "postgres.h"

#include "compat.h"
#include "notify/enqueue/address.h"
#include "notify/enqueue/content.h"
#include "notify/channels/request.h"

#include "common/base64.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include <time.h>

#include <curl/curl.h>

/* A setting of the channel's provider, or NULL. */
static char *
ts_setting(TsNotification *n, const char *key)
{
	JsonbValue *v;

	if (n->settings == NULL || !JB_ROOT_IS_OBJECT(n->settings))
		return NULL;
	v = getKeyJsonValueFromContainer(&n->settings->root, key, strlen(key), NULL);
	if (v == NULL || v->type != jbvString || v->val.string.len == 0)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * A setting that may be a secret given as env:NAME; sets *error (naming the
 * key and variable, never a value) when it is required and missing.
 */
static char *
ts_secret(TsNotification *n, const char *key, bool required, char **error)
{
	char	   *v = ts_setting(n, key);

	if (v && strncmp(v, "env:", 4) == 0)
	{
		const char *e = getenv(v + 4);

		if (e == NULL || *e == '\0')
		{
			*error = psprintf("%s setting %s names environment variable %s, which the server does not have",
							  n->provider, key, v + 4);
			return NULL;
		}
		return pstrdup(e);
	}
	if (v == NULL && required)
		*error = psprintf("%s setting %s is missing", n->provider, key);
	return v;
}

/* The setting, or def with "%s" replaced by the region. */
static char *
ts_base_url(TsNotification *n, const char *def, const char *region)
{
	char	   *v = ts_setting(n, "base_url");
	int			len;

	if (v == NULL)
		v = region ? psprintf(def, region) : pstrdup(def);
	len = strlen(v);
	while (len > 0 && v[len - 1] == '/')
		v[--len] = '\0';
	return v;
}

/* Appends s percent-encoded for application/x-www-form-urlencoded. */
static void
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
static void
ts_form_field(StringInfo buf, const char *name, const char *value)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, '&');
	ts_form_escape(buf, name);
	appendStringInfoChar(buf, '=');
	ts_form_escape(buf, value);
}

/* Appends "key": "value" to a JSON object under construction (a comma first unless it opens it). */
static void
ts_json_member(StringInfo buf, const char *key, const char *value)
{
	int			i = buf->len - 1;

	while (i >= 0 && buf->data[i] == ' ')
		i--;
	if (i >= 0 && buf->data[i] != '{' && buf->data[i] != ',' && buf->data[i] != '[')
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	escape_json(buf, value);
}

/* The address inside "Name <addr>", or s itself. */
static char *
ts_addr_spec(const char *s)
{
	const char *lt = strrchr(s, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;

	return gt ? pnstrdup(lt + 1, gt - lt - 1) : pstrdup(s);
}

/* The display name of "Name <addr>" (quotes trimmed), or NULL. */
static char *
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

/* One attachment from metadata.attachments. */
typedef struct TsAttachment
{
	char	   *filename;
	char	   *content_type;
	char	   *b64;			/* base64 without line breaks */
	char	   *data;			/* decoded */
	int			len;
} TsAttachment;

/* The attachments in metadata (validated at enqueue); a malformed one sets *error. */
static List *
ts_attachments(TsNotification *n, char **error)
{
	List	   *out = NIL;
	JsonbValue *arr;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (n->metadata == NULL || !JB_ROOT_IS_OBJECT(n->metadata))
		return NIL;
	arr = getKeyJsonValueFromContainer(&n->metadata->root, "attachments", 11, NULL);
	if (arr == NULL || arr->type != jbvBinary)
		return NIL;
	it = JsonbIteratorInit(arr->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		TsAttachment *a;
		JsonbValue *f;
		JsonbValue *ct;
		JsonbValue *c;
		StringInfoData clean;
		int			max;

		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		{
			*error = pstrdup("an attachment is not an object");
			return NIL;
		}
		f = getKeyJsonValueFromContainer(v.val.binary.data, "filename", 8, NULL);
		ct = getKeyJsonValueFromContainer(v.val.binary.data, "content_type", 12, NULL);
		c = getKeyJsonValueFromContainer(v.val.binary.data, "content", 7, NULL);
		if (f == NULL || f->type != jbvString || c == NULL || c->type != jbvString)
		{
			*error = pstrdup("an attachment lacks filename or content");
			return NIL;
		}
		a = palloc0(sizeof(TsAttachment));
		a->filename = pnstrdup(f->val.string.val, f->val.string.len);
		a->content_type = ct && ct->type == jbvString ? pnstrdup(ct->val.string.val, ct->val.string.len)
			: pstrdup("application/octet-stream");
		if (!ts_is_mime_type(a->content_type, strlen(a->content_type)))
		{
			/* it goes into a part's header: checked again here */
			*error = psprintf("attachment %s has a content_type that is not type/subtype", a->filename);
			return NIL;
		}
		initStringInfo(&clean);
		for (int i = 0; i < c->val.string.len; i++)
			if (!isspace((unsigned char) c->val.string.val[i]))
				appendStringInfoChar(&clean, c->val.string.val[i]);
		a->b64 = clean.data;
		max = pg_b64_dec_len(clean.len);
		a->data = palloc(max + 1);
		a->len = pg_b64_decode(clean.data, clean.len, a->data, max);
		if (a->len < 0)
		{
			*error = psprintf("attachment %s is not valid base64", a->filename);
			return NIL;
		}
		out = lappend(out, a);
	}
	return out;
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
static char *
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
static char *
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
static void
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

/* Adds "X-Amz-Security-Token" when a session token is set, and the SigV4 parameters. */
static bool
ts_aws_auth(TsNotification *n, TsRequest *req, const char *region, const char *service, char **error)
{
	char	   *token;

#if LIBCURL_VERSION_NUM < 0x074b00
	*error = pstrdup("Amazon providers need libcurl 7.75 or later (SigV4)");
	return false;
#endif
	req->username = ts_secret(n, "access_key_id", true, error);
	req->password = *error ? NULL : ts_secret(n, "secret_access_key", true, error);
	token = *error ? NULL : ts_secret(n, "session_token", false, error);
	if (*error)
		return false;
	req->aws_sigv4 = psprintf("aws:amz:%s:%s", region, service);
	if (token)
		req->headers = lappend(req->headers, psprintf("X-Amz-Security-Token: %s", token));
	req->secret_headers = true;
	return true;
}

/*
 * Builds the request of an email or SMS notification for its channel's
 * provider.  Returns false with *error set when it cannot be built.
 */
bool
ts_build_provider_request(TsNotification *n, TimestampTz at, TsRequest *req, char **error)
{
	StringInfoData body;
	bool		is_html = n->body_format && strcmp(n->body_format, "html") == 0;
	const char *html = is_html ? n->body : NULL;
	const char *text = is_html ? n->text_body : n->body;
	const char *subject = n->subject && *n->subject ? n->subject : "(no subject)";
	char	   *from = ts_setting(n, "from");
	char	   *region = ts_setting(n, "region");
	List	   *attachments = NIL;
	ListCell   *lc;

	initStringInfo(&body);
	if (n->provider == NULL)
	{
		*error = psprintf("no %s provider is set: call set_troubleshooting_provider()", n->channel);
		return false;
	}
	if (strcmp(n->channel, "email") == 0)
	{
		attachments = ts_attachments(n, error);
		if (*error)
			return false;
	}

	if (strcmp(n->provider, "smtp") == 0)
	{
		char	   *tls = ts_setting(n, "tls");
		char	   *addr = ts_addr_spec(from ? from : "");
		const char *at_sign = strchr(addr, '@');
		const char *domain = at_sign ? at_sign + 1 : "";
		/* the Message-ID's left part: the key without . : @ (not atext) */
		char	   *left = ts_header_token(n->idempotency_key, "", error);

		if (left == NULL)
			return false;
		/* the envelope goes into SMTP commands as is */
		if (strpbrk(addr, "<>") || ts_has_control_char(addr) ||
			strpbrk(n->recipient, "<>") || ts_has_control_char(n->recipient))
		{
			*error = psprintf("the %s has a control character or an angle bracket: not sent",
							  strpbrk(addr, "<>") || ts_has_control_char(addr) ? "from address" : "recipient");
			return false;
		}
		if (domain[0] == '\0' || strlen(domain) > 253 ||
			strspn(domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(domain))
			domain = "localhost";
		req->smtp = true;
		req->url = ts_setting(n, "url");
		req->username = ts_setting(n, "username");
		req->password = ts_secret(n, "password", false, error);
		if (*error)
			return false;
		req->use_tls = tls == NULL || strcmp(tls, "none") != 0;
		req->ca_file = ts_setting(n, "ca_file");
		req->mail_from = psprintf("<%s>", addr);
		req->mail_rcpt = psprintf("<%s>", n->recipient);
		req->own_id = psprintf("%s@%s", left, domain);
		req->body = ts_mime_message(n, from ? from : "", html, text, attachments,
									psprintf("<%s>", req->own_id), at);
		req->body_len = strlen(req->body);
	}
	else if (strcmp(n->provider, "sendgrid") == 0)
	{
		char	   *key = ts_secret(n, "api_key", true, error);
		char	   *name = ts_display_name(from ? from : "");

		if (*error)
			return false;
		req->url = psprintf("%s/v3/mail/send", ts_base_url(n, "https://api.sendgrid.com", NULL));
		req->headers = lappend(req->headers, pstrdup("Content-Type: application/json"));
		req->headers = lappend(req->headers, psprintf("Authorization: Bearer %s", key));
		req->secret_headers = true;
		appendStringInfoString(&body, "{\"personalizations\": [{\"to\": [{");
		ts_json_member(&body, "email", n->recipient);
		appendStringInfoString(&body, "}]}], \"from\": {");
		ts_json_member(&body, "email", ts_addr_spec(from ? from : ""));
		if (name)
			ts_json_member(&body, "name", name);
		appendStringInfoString(&body, "}, ");
		ts_json_member(&body, "subject", subject);
		appendStringInfoString(&body, ", \"content\": [");
		if (text)
		{
			appendStringInfoString(&body, "{\"type\": \"text/plain\", ");
			ts_json_member(&body, "value", *text ? text : " ");
			appendStringInfoString(&body, html ? "}, " : "}");
		}
		if (html)
		{
			appendStringInfoString(&body, "{\"type\": \"text/html\", ");
			ts_json_member(&body, "value", *html ? html : " ");
			appendStringInfoChar(&body, '}');
		}
		appendStringInfoChar(&body, ']');
		if (attachments)
		{
			appendStringInfoString(&body, ", \"attachments\": [");
			foreach(lc, attachments)
			{
				TsAttachment *a = lfirst(lc);

				appendStringInfoString(&body, foreach_current_index(lc) > 0 ? ", {" : "{");
				ts_json_member(&body, "content", a->b64);
				ts_json_member(&body, "filename", a->filename);
				ts_json_member(&body, "type", a->content_type);
				ts_json_member(&body, "disposition", "attachment");
				appendStringInfoChar(&body, '}');
			}
			appendStringInfoChar(&body, ']');
		}
		appendStringInfo(&body, ", \"custom_args\": {\"notification_id\": \"" INT64_FORMAT "\"}}", n->id);
	}
	else if (strcmp(n->provider, "mailgun") == 0)
	{
		char	   *boundary = ts_boundary("f");
		char	   *domain = ts_setting(n, "domain");
		char	   *id = psprintf(INT64_FORMAT, n->id);

		req->username = pstrdup("api");
		req->password = ts_secret(n, "api_key", true, error);
		if (*error)
			return false;
		if (domain == NULL)
		{
			*error = pstrdup("mailgun setting domain is missing");
			return false;
		}
		req->url = psprintf("%s/v3/%s/messages", ts_base_url(n, "https://api.mailgun.net", NULL), domain);
		req->headers = lappend(req->headers, psprintf("Content-Type: multipart/form-data; boundary=%s", boundary));
		ts_multipart_field(&body, boundary, "from", NULL, NULL, from ? from : "", strlen(from ? from : ""));
		ts_multipart_field(&body, boundary, "to", NULL, NULL, n->recipient, strlen(n->recipient));
		ts_multipart_field(&body, boundary, "subject", NULL, NULL, subject, strlen(subject));
		if (text)
			ts_multipart_field(&body, boundary, "text", NULL, NULL, text, strlen(text));
		if (html)
			ts_multipart_field(&body, boundary, "html", NULL, NULL, html, strlen(html));
		ts_multipart_field(&body, boundary, "v:notification_id", NULL, NULL, id, strlen(id));
		foreach(lc, attachments)
		{
			TsAttachment *a = lfirst(lc);

			ts_multipart_field(&body, boundary, "attachment", a->filename, a->content_type, a->data, a->len);
		}
		appendStringInfo(&body, "--%s--\r\n", boundary);
	}
	else if (strcmp(n->provider, "ses") == 0)
	{
		if (region == NULL)
		{
			*error = pstrdup("ses setting region is missing");
			return false;
		}
		if (!ts_aws_auth(n, req, region, "ses", error))
			return false;
		req->url = psprintf("%s/v2/email/outbound-emails",
							ts_base_url(n, "https://email.%s.amazonaws.com", region));
		req->headers = lappend(req->headers, pstrdup("Content-Type: application/json"));
		appendStringInfoChar(&body, '{');
		ts_json_member(&body, "FromEmailAddress", from ? from : "");
		appendStringInfoString(&body, ", \"Destination\": {\"ToAddresses\": [");
		escape_json(&body, n->recipient);
		appendStringInfoString(&body, "]}, \"Content\": {\"Simple\": {\"Subject\": {");
		ts_json_member(&body, "Data", subject);
		ts_json_member(&body, "Charset", "UTF-8");
		appendStringInfoString(&body, "}, \"Body\": {");
		if (text)
		{
			appendStringInfoString(&body, "\"Text\": {");
			ts_json_member(&body, "Data", text);
			ts_json_member(&body, "Charset", "UTF-8");
			appendStringInfoString(&body, html ? "}, " : "}");
		}
		if (html)
		{
			appendStringInfoString(&body, "\"Html\": {");
			ts_json_member(&body, "Data", html);
			ts_json_member(&body, "Charset", "UTF-8");
			appendStringInfoChar(&body, '}');
		}
		appendStringInfoChar(&body, '}');
		if (attachments)
		{
			appendStringInfoString(&body, ", \"Attachments\": [");
			foreach(lc, attachments)
			{
				TsAttachment *a = lfirst(lc);

				appendStringInfoString(&body, foreach_current_index(lc) > 0 ? ", {" : "{");
				ts_json_member(&body, "FileName", a->filename);
				ts_json_member(&body, "RawContent", a->b64);
				ts_json_member(&body, "ContentType", a->content_type);
				ts_json_member(&body, "ContentDisposition", "ATTACHMENT");
				appendStringInfoChar(&body, '}');
			}
			appendStringInfoChar(&body, ']');
		}
		appendStringInfoString(&body, "}}}");
	}
	else if (strcmp(n->provider, "twilio") == 0)
	{
		char	   *sid = ts_setting(n, "account_sid");
		char	   *service = ts_setting(n, "messaging_service_sid");

		req->username = sid;
		req->password = ts_secret(n, "auth_token", true, error);
		if (*error)
			return false;
		if (sid == NULL || (from == NULL && service == NULL))
		{
			*error = pstrdup("twilio settings need account_sid and from or messaging_service_sid");
			return false;
		}
		req->url = psprintf("%s/2010-04-01/Accounts/%s/Messages.json",
							ts_base_url(n, "https://api.twilio.com", NULL), sid);
		req->headers = lappend(req->headers, pstrdup("Content-Type: application/x-www-form-urlencoded"));
		ts_form_field(&body, "To", n->recipient);
		if (service)
			ts_form_field(&body, "MessagingServiceSid", service);
		else
			ts_form_field(&body, "From", from);
		ts_form_field(&body, "Body", text ? text : "");
	}
	else if (strcmp(n->provider, "sns") == 0)
	{
		if (region == NULL)
		{
			*error = pstrdup("sns setting region is missing");
			return false;
		}
		if (!ts_aws_auth(n, req, region, "sns", error))
			return false;
		req->url = psprintf("%s/", ts_base_url(n, "https://sns.%s.amazonaws.com", region));
		req->headers = lappend(req->headers,
							   pstrdup("Content-Type: application/x-www-form-urlencoded; charset=utf-8"));
		ts_form_field(&body, "Action", "Publish");
		ts_form_field(&body, "Version", "2010-03-31");
		ts_form_field(&body, "PhoneNumber", n->recipient);
		ts_form_field(&body, "Message", text ? text : "");
		ts_form_field(&body, "MessageAttributes.entry.1.Name", "AWS.SNS.SMS.SMSType");
		ts_form_field(&body, "MessageAttributes.entry.1.Value.DataType", "String");
		ts_form_field(&body, "MessageAttributes.entry.1.Value.StringValue", "Transactional");
	}
	else
	{
		*error = psprintf("unknown provider %s", n->provider);
		return false;
	}
	if (!req->smtp)
	{
		req->body = body.data;
		req->body_len = body.len;
	}
	return true;
}
