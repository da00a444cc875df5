/*
 * content.c
 *	  Checks of and additions to a notification's content at enqueue: e-mail
 *	  attachments carried in metadata ({"attachments": [{filename,
 *	  content_type, content (base64)}]}, 10 MB decoded in all), the SMS length
 *	  limit, the format of idempotency keys, and the open-tracking pixel of
 *	  HTML e-mail.
 *
 * Idempotency keys are 1 to 200 characters from A-Z a-z 0-9 . _ : @ - (the
 * table's constraint says the same): they reach protocol headers (webhook-id,
 * SMTP Message-ID), so no space, control or non-ASCII character gets in.
 */
#include "postgres.h"

#include "notify/enqueue/content.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "port.h"

/* Size base64 text of len bytes decodes to, or -1 if it is not base64 (RFC 4648, padded; line breaks allowed). */
static int64
ts_base64_size(const char *s, int len)
{
	int64		chars = 0;
	int			pad = 0;

	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=')
		{
			if (++pad > 2)
				return -1;
		}
		else if (pad > 0)
			return -1;			/* data after the padding */
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				   (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
		chars++;
	}
	if (chars % 4 != 0)
		return -1;
	return chars / 4 * 3 - pad;
}

/* Reports what is wrong with attachment i (-1: the attachments value itself). */
static void
ts_bad_attachment(int i, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid attachment in metadata"),
			 i < 0 ? errdetail("%s.", problem) :
			 errdetail("Attachment %d (counting from 0) %s.", i, problem),
			 errhint("Give \"attachments\": [{\"filename\": \"report.pdf\", \"content_type\": \"application/pdf\", \"content\": \"<base64>\"}]; content_type is optional.")));
}

/* True for a MIME token character (RFC 2045) that may start or continue a type name. */
static bool
ts_is_mime_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr("!#$&^_.+-", c) != NULL);
}

/* True if s (len bytes) is type/subtype, with no parameters. */
bool
ts_is_mime_type(const char *s, int len)
{
	int			slash = -1;

	if (len > 255)
		return false;
	for (int i = 0; i < len; i++)
	{
		if (s[i] == '/' && slash < 0 && i > 0)
			slash = i;
		else if (!ts_is_mime_char((unsigned char) s[i]))
			return false;
	}
	return slash > 0 && slash < len - 1;
}

/* Checks one attachment object; returns its decoded size. */
static int64
ts_check_attachment(int i, JsonbValue *e)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	k;
	JsonbValue	v;
	bool		have_filename = false;
	int64		size = -2;

	if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
		ts_bad_attachment(i, "is not a JSON object");
	it = JsonbIteratorInit(e->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;
		const char *s;
		int			len;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(k.val.string.val, Min(k.val.string.len, 64));
		tok = JsonbIteratorNext(&it, &v, true);
		if (strcmp(key, "filename") != 0 && strcmp(key, "content_type") != 0 &&
			strcmp(key, "content") != 0)
			ts_bad_attachment(i, psprintf("has the unknown key \"%s\" (keys are filename, content_type and content)", key));
		if (v.type == jbvNull && strcmp(key, "content_type") == 0)
			continue;			/* the default, application/octet-stream */
		if (v.type != jbvString)
			ts_bad_attachment(i, psprintf("has a %s that is not a JSON string", key));
		s = v.val.string.val;
		len = v.val.string.len;
		if (strcmp(key, "filename") == 0)
		{
			int			chars = pg_mbstrlen_with_len(s, len);

			if (chars < 1 || chars > 255)
				ts_bad_attachment(i, "has a filename that is empty or longer than 255 characters");
			for (int j = 0; j < len; j++)
				if ((unsigned char) s[j] < 0x20 || s[j] == 0x7f || s[j] == '/' || s[j] == '\\' || s[j] == '"')
					ts_bad_attachment(i, "has a filename with a control character, a slash, a backslash or a double quote");
			have_filename = true;
		}
		else if (strcmp(key, "content_type") == 0)
		{
			if (!ts_is_mime_type(s, len))
				ts_bad_attachment(i, "has a content_type that is not type/subtype (such as application/pdf)");
		}
		else if ((size = ts_base64_size(s, len)) < 0)
			ts_bad_attachment(i, "has a content that is not valid base64");
	}
	if (!have_filename)
		ts_bad_attachment(i, "has no filename");
	if (size == -2)
		ts_bad_attachment(i, "has no content");
	return size;
}

/*
 * Checks metadata->attachments: only e-mail may have them, each one valid,
 * 10 MB decoded in all.
 */
void
ts_check_attachments(const char *channel, Jsonb *metadata)
{
	JsonbValue *att;
	int64		total = 0;
	int			count;

	if (metadata == NULL || !JB_ROOT_IS_OBJECT(metadata))
		return;
	att = getKeyJsonValueFromContainer(&metadata->root, "attachments", 11, NULL);
	if (att == NULL || att->type == jbvNull)
		return;
	if (strcmp(channel, "email") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("attachments are only for channel email"),
				 errhint("Remove \"attachments\" from the metadata of %s notifications.", channel)));
	if (att->type != jbvBinary || !JsonContainerIsArray(att->val.binary.data))
		ts_bad_attachment(-1, "\"attachments\" is not a JSON array");
	count = JsonContainerSize(att->val.binary.data);
	for (int i = 0; i < count; i++)
		total += ts_check_attachment(i, getIthJsonbValueFromContainer(att->val.binary.data, i));
	if (total > TS_ATTACHMENTS_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("attachments too large"),
				 errdetail("They decode to " INT64_FORMAT " bytes; the limit is %d bytes (10 MB).",
						   total, TS_ATTACHMENTS_MAX_BYTES),
				 errhint("Send a link to large files instead.")));
}

/* Errors if a rendered SMS body is longer than 1600 characters. */
void
ts_check_sms_length(const char *body)
{
	int			chars = pg_mbstrlen_with_len(body, strlen(body));

	if (chars > TS_SMS_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sms body too long"),
				 errdetail("The rendered body has %d characters; the limit is %d.", chars, TS_SMS_MAX_CHARS),
				 errhint("Shorten the template or the data it is rendered with.")));
}

/* True for a character allowed in idempotency keys: A-Z a-z 0-9 . _ : @ - */
bool
ts_is_key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
}

/* Errors unless key has 1 to TS_IDEMPOTENCY_KEY_MAX characters, all allowed ones. */
void
ts_check_idempotency_key(const char *key)
{
	size_t		len = strlen(key);
	const char *p;

	if (len == 0 || len > TS_IDEMPOTENCY_KEY_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid idempotency key"),
				 len == 0 ? errdetail("The key is empty.") :
				 errdetail("The key is %zu bytes long; the limit is %d.", len, TS_IDEMPOTENCY_KEY_MAX),
				 errhint("Idempotency keys are 1 to %d characters from A-Z, a-z, 0-9 and . _ : @ -; hash any other text, e.g. encode(sha256(convert_to(text, 'UTF8')), 'hex').",
						 TS_IDEMPOTENCY_KEY_MAX)));
	for (p = key; *p; p++)
	{
		unsigned char c = (unsigned char) *p;
		int			at;

		if (ts_is_key_char(c))
			continue;
		at = pg_mbstrlen_with_len(key, p - key) + 1;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid idempotency key"),
				 c < 0x20 || c == 0x7f ?
				 errdetail("Character %d is a control character (0x%02X).", at, c) :
				 c >= 0x80 ? errdetail("Character %d is not ASCII.", at) :
				 errdetail("Character %d is \"%c\".", at, c),
				 errhint("Idempotency keys are 1 to %d characters from A-Z, a-z, 0-9 and . _ : @ -; hash any other text, e.g. encode(sha256(convert_to(text, 'UTF8')), 'hex').",
						 TS_IDEMPOTENCY_KEY_MAX)));
	}
}

/* A new open-tracking token: 32 lower-case hex digits from a strong random source. */
char *
ts_new_tracking_token(void)
{
	static const char hex[] = "0123456789abcdef";
	uint8		bytes[16];
	char	   *token = palloc(sizeof(bytes) * 2 + 1);

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a tracking token")));
	for (size_t i = 0; i < sizeof(bytes); i++)
	{
		token[2 * i] = hex[bytes[i] >> 4];
		token[2 * i + 1] = hex[bytes[i] & 0x0f];
	}
	token[sizeof(bytes) * 2] = '\0';
	return token;
}

/* Finds the last "</body>" (any case, spaces allowed before >), or NULL. */
static const char *
ts_find_body_end(const char *html)
{
	const char *found = NULL;

	for (const char *p = html; (p = strchr(p, '<')) != NULL; p++)
	{
		const char *q = p + 6;

		if (pg_strncasecmp(p, "</body", 6) != 0)
			continue;
		while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			q++;
		if (*q == '>')
			found = p;
	}
	return found;
}

/*
 * Returns html with the 1x1 open-tracking image <url>/<token> inserted right
 * before </body>, or appended when there is none.  The URL was checked when
 * configured (no quotes or angle brackets); & is written as &amp;.
 */
char *
ts_add_tracking_pixel(const char *html, const char *url, const char *token)
{
	StringInfoData out;
	const char *end = ts_find_body_end(html);
	int			urllen = strlen(url);

	while (urllen > 0 && url[urllen - 1] == '/')
		urllen--;
	initStringInfo(&out);
	appendBinaryStringInfo(&out, html, end ? end - html : (int) strlen(html));
	appendStringInfoString(&out, "<img src=\"");
	for (int i = 0; i < urllen; i++)
	{
		if (url[i] == '&')
			appendStringInfoString(&out, "&amp;");
		else
			appendStringInfoChar(&out, url[i]);
	}
	appendStringInfo(&out, "/%s\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">", token);
	if (end)
		appendStringInfoString(&out, end);
	return out.data;
}
