/*
 * request.c
 *	  Turns a notification row into the HTTP request its channel expects
 *	  (../shared/providers.md): Slack `text`, a Teams Workflows Adaptive Card
 *	  (or a legacy MessageCard), Discord `content` or an embed, and generic
 *	  webhooks signed per Standard Webhooks.  Destination URLs come from the
 *	  row's metadata, the subscription, or the server environment.  No
 *	  control character ever reaches a header: idempotency keys are encoded
 *	  as tokens, and every request is checked before it leaves.  The
 *	  dispatcher sends what this builds; troubleshooting_notification_request()
 *	  shows it to the extension's owner.  Email and SMS requests are built in
 *	  provider_request.c; their providers' answers (message id, failure
 *	  class) are read here.
 */
#include "postgres.h"

#include "compat.h"
#include "extschema.h"
#include "notify/enqueue/address.h"
#include "notify/enqueue/content.h"
#include "notify/channels/providers.h"
#include "notify/channels/request.h"
#include "notify/channels/wire.h"

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "common/jsonapi.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#if PG_VERSION_NUM >= 140000
#include "common/hmac.h"
#else
#include "common/sha2.h"
#endif

PG_FUNCTION_INFO_V1(troubleshooting_notification_request);

#define TS_USER_AGENT "troubleshooting-postgres/4.0.0"
#define TS_DISCORD_CONTENT_MAX 2000
#define TS_DISCORD_EMBED_MAX 4096

/* HMAC-SHA256 of data with key, into out[32]. */
static void
ts_hmac_sha256(const uint8 *key, size_t keylen, const uint8 *data, size_t len, uint8 *out)
{
#if PG_VERSION_NUM >= 140000
	/* pg_hmac tracks its state in a resource owner; a worker between
	 * transactions has none, so lend it one */
	static ResourceOwner owner = NULL;
	ResourceOwner saved = CurrentResourceOwner;
	pg_hmac_ctx *ctx;

	if (saved == NULL)
	{
		if (owner == NULL)
			owner = ResourceOwnerCreate(NULL, "troubleshooting hmac");
		CurrentResourceOwner = owner;
	}
	PG_TRY();
	{
		ctx = pg_hmac_create(PG_SHA256);
		if (ctx == NULL || pg_hmac_init(ctx, key, keylen) < 0 ||
			pg_hmac_update(ctx, data, len) < 0 || pg_hmac_final(ctx, out, 32) < 0)
			elog(ERROR, "could not compute HMAC-SHA256");
		pg_hmac_free(ctx);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = saved;
	}
	PG_END_TRY();
#else
	uint8		k[PG_SHA256_BLOCK_LENGTH] = {0};
	uint8		pad[PG_SHA256_BLOCK_LENGTH];
	uint8		inner[PG_SHA256_DIGEST_LENGTH];
	pg_sha256_ctx c;

	if (keylen > PG_SHA256_BLOCK_LENGTH)
	{
		pg_sha256_init(&c);
		pg_sha256_update(&c, key, keylen);
		pg_sha256_final(&c, k);
	}
	else
		memcpy(k, key, keylen);
	for (int i = 0; i < PG_SHA256_BLOCK_LENGTH; i++)
		pad[i] = k[i] ^ 0x36;
	pg_sha256_init(&c);
	pg_sha256_update(&c, pad, sizeof(pad));
	pg_sha256_update(&c, data, len);
	pg_sha256_final(&c, inner);
	for (int i = 0; i < PG_SHA256_BLOCK_LENGTH; i++)
		pad[i] = k[i] ^ 0x5c;
	pg_sha256_init(&c);
	pg_sha256_update(&c, pad, sizeof(pad));
	pg_sha256_update(&c, inner, sizeof(inner));
	pg_sha256_final(&c, out);
#endif
}

/*
 * The Standard Webhooks signature header value "v1,<base64>" over
 * "<id>.<timestamp>.<body>", keyed with the base64-decoded whsec_ secret.
 */
char *
ts_webhook_signature(const char *secret, const char *msg_id, int64 timestamp,
					 const char *body, size_t body_len)
{
	const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
	int			keymax = pg_b64_dec_len(strlen(b64));
	char	   *key = palloc(keymax);
	int			keylen = pg_b64_decode(b64, strlen(b64), key, keymax);
	StringInfoData msg;
	uint8		mac[32];
	char		enc[64];
	int			enclen;

	if (keylen <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook signing secret is not valid base64"),
				 errhint("Secrets look like whsec_ followed by base64.")));
	initStringInfo(&msg);
	appendStringInfo(&msg, "%s." INT64_FORMAT ".", msg_id, timestamp);
	appendBinaryStringInfo(&msg, body, body_len);
	ts_hmac_sha256((uint8 *) key, keylen, (uint8 *) msg.data, msg.len, mac);
	enclen = pg_b64_encode((char *) mac, sizeof(mac), enc, sizeof(enc));
	if (enclen < 0)
		elog(ERROR, "could not base64-encode a signature");
	return psprintf("v1,%.*s", enclen, enc);
}

/*
 * The last check before a request leaves: no control character in its URL
 * or any header (a secret or setting written around validation, say).
 * Returns false with *error naming the header, never its value.
 */
static bool
ts_request_safe(TsRequest *req, char **error)
{
	ListCell   *lc;

	if (req->url && (ts_has_control_char(req->url) || strchr(req->url, ' ') != NULL))
	{
		*error = pstrdup("the destination URL has a control character or a space: not sent");
		return false;
	}
	foreach(lc, req->headers)
	{
		const char *h = lfirst(lc);

		if (ts_has_control_char(h))
		{
			*error = psprintf("header %.*s has a control character: not sent",
							  (int) strcspn(h, ":\r\n"), h);
			return false;
		}
	}
	return true;
}

/* True if s is one valid JSON object (a template that already built the payload). */
static bool
ts_is_json_object(const char *s)
{
	JsonLexContext *lex;

	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	if (*s != '{')
		return false;
	lex = makeJsonLexContextCstringLen((char *) s, strlen(s), PG_UTF8, false);
	return pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS;
}

/* Cuts s to at most max characters (not bytes), ending with an ellipsis. */
static char *
ts_truncate_chars(const char *s, int max)
{
	int			len = strlen(s);

	if (pg_mbstrlen_with_len(s, len) <= max)
		return pstrdup(s);
	len = pg_mbcharcliplen(s, len, max - 1);
	return psprintf("%.*s\xE2\x80\xA6", len, s);
}

/* Returns a string member of a jsonb object, or NULL. */
static char *
ts_meta_string(Jsonb *meta, const char *key)
{
	JsonbValue *v;

	if (meta == NULL || !JB_ROOT_IS_OBJECT(meta))
		return NULL;
	v = getKeyJsonValueFromContainer(&meta->root, key, strlen(key), NULL);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Appends "key": "value" (JSON-escaped) to buf. */
static void
ts_json_pair(StringInfo buf, const char *key, const char *value)
{
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	escape_json(buf, value);
}

/* The default URL of a chat channel, from the server environment. */
static char *
ts_env_url(const char *channel)
{
	const char *var = strcmp(channel, "slack") == 0 ? "SLACK_WEBHOOK_URL" :
		strcmp(channel, "teams") == 0 ? "TEAMS_WEBHOOK_URL" :
		strcmp(channel, "discord") == 0 ? "DISCORD_WEBHOOK_URL" : NULL;
	const char *v = var ? getenv(var) : NULL;

	return v && *v ? pstrdup(v) : NULL;
}

/* Builds the body of a chat message (Slack, Teams, Discord). */
static void
ts_chat_body(TsNotification *n, StringInfo buf)
{
	const char *teams_format = ts_meta_string(n->metadata, "teams_format");

	if (ts_is_json_object(n->body))
	{
		appendStringInfoString(buf, n->body);	/* a json template built it */
		return;
	}
	if (strcmp(n->channel, "slack") == 0)
	{
		appendStringInfoChar(buf, '{');
		ts_json_pair(buf, "text", n->body);
		appendStringInfoChar(buf, '}');
	}
	else if (strcmp(n->channel, "teams") == 0 && teams_format &&
			 strcmp(teams_format, "messagecard") == 0)
	{
		appendStringInfoString(buf, "{\"@type\": \"MessageCard\", \"@context\": \"http://schema.org/extensions\", ");
		ts_json_pair(buf, "summary", ts_truncate_chars(n->subject ? n->subject : n->body, 80));
		if (n->subject)
		{
			appendStringInfoString(buf, ", ");
			ts_json_pair(buf, "title", n->subject);
		}
		appendStringInfoString(buf, ", ");
		ts_json_pair(buf, "text", n->body);
		appendStringInfoChar(buf, '}');
	}
	else if (strcmp(n->channel, "teams") == 0)
	{
		appendStringInfoString(buf, "{\"type\": \"message\", \"attachments\": [{"
							   "\"contentType\": \"application/vnd.microsoft.card.adaptive\", "
							   "\"contentUrl\": null, \"content\": {"
							   "\"$schema\": \"http://adaptivecards.io/schemas/adaptive-card.json\", "
							   "\"type\": \"AdaptiveCard\", \"version\": \"1.2\", \"body\": [");
		if (n->subject)
		{
			appendStringInfoString(buf, "{\"type\": \"TextBlock\", \"weight\": \"Bolder\", \"wrap\": true, ");
			ts_json_pair(buf, "text", n->subject);
			appendStringInfoString(buf, "}, ");
		}
		appendStringInfoString(buf, "{\"type\": \"TextBlock\", \"wrap\": true, ");
		ts_json_pair(buf, "text", n->body);
		appendStringInfoString(buf, "}]}}]}");
	}
	else
	{
		/* Discord: plain content when it fits, else an embed; never ping */
		appendStringInfoChar(buf, '{');
		if (pg_mbstrlen(n->body) <= TS_DISCORD_CONTENT_MAX)
			ts_json_pair(buf, "content", n->body);
		else
		{
			appendStringInfoString(buf, "\"embeds\": [{");
			if (n->subject)
			{
				ts_json_pair(buf, "title", ts_truncate_chars(n->subject, 256));
				appendStringInfoString(buf, ", ");
			}
			ts_json_pair(buf, "description", ts_truncate_chars(n->body, TS_DISCORD_EMBED_MAX));
			appendStringInfoString(buf, "}]");
		}
		appendStringInfoString(buf, ", \"allowed_mentions\": {\"parse\": []}}");
	}
}

/* Appends ?wait=true (or &wait=true) to a Discord URL that lacks it. */
static char *
ts_discord_wait(const char *url)
{
	if (strstr(url, "wait=") != NULL)
		return pstrdup(url);
	return psprintf("%s%cwait=true", url, strchr(url, '?') ? '&' : '?');
}

/*
 * Builds the request for one notification at attempt_time.  Returns false,
 * with *error set, when the row cannot be sent (no destination, say).
 */
bool
ts_build_request(TsNotification *n, TimestampTz attempt_time, TsRequest *req, char **error)
{
	StringInfoData body;

	memset(req, 0, sizeof(*req));
	if (strcmp(n->channel, "email") == 0 || strcmp(n->channel, "sms") == 0)
		return ts_build_provider_request(n, attempt_time, req, error) && ts_request_safe(req, error);
	req->headers = lappend(req->headers, pstrdup("Content-Type: application/json"));
	initStringInfo(&body);

	if (strcmp(n->channel, "webhook") == 0)
	{
		/* the spec forbids full stops in ids: the token encodes them */
		char	   *msg_id = ts_header_token(n->idempotency_key, ":@", error);
		int64		ts = (int64) (attempt_time / USECS_PER_SEC) +
			(int64) ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);

		if (msg_id == NULL)
			return false;
		req->url = n->webhook_url ? pstrdup(n->webhook_url) : pstrdup(n->recipient);
		appendStringInfoString(&body, n->body);
		req->headers = lappend(req->headers, psprintf("webhook-id: %s", msg_id));
		req->headers = lappend(req->headers, psprintf("webhook-timestamp: " INT64_FORMAT, ts));
		if (n->webhook_secret)
			req->headers = lappend(req->headers,
								   psprintf("webhook-signature: %s",
											ts_webhook_signature(n->webhook_secret, msg_id, ts,
																 body.data, body.len)));
		req->headers = lappend(req->headers, pstrdup("User-Agent: " TS_USER_AGENT));
	}
	else if (strcmp(n->channel, "slack") == 0 || strcmp(n->channel, "teams") == 0 ||
			 strcmp(n->channel, "discord") == 0)
	{
		req->url = ts_meta_string(n->metadata, "webhook_url");
		if (req->url == NULL)
			req->url = ts_env_url(n->channel);
		if (req->url == NULL)
		{
			*error = psprintf("No destination for %s: set metadata webhook_url or %s_WEBHOOK_URL.",
							  n->channel, strcmp(n->channel, "slack") == 0 ? "SLACK" :
							  strcmp(n->channel, "teams") == 0 ? "TEAMS" : "DISCORD");
			return false;
		}
		if (strcmp(n->channel, "discord") == 0)
		{
			req->url = ts_discord_wait(req->url);
			req->headers = lappend(req->headers,
								   pstrdup("User-Agent: DiscordBot (https://github.com/troubleshooting, 4.0.0)"));
		}
		else
			req->headers = lappend(req->headers, pstrdup("User-Agent: " TS_USER_AGENT));
		ts_chat_body(n, &body);
	}
	else
	{
		*error = psprintf("Channel %s has no HTTP request of its own.", n->channel);
		return false;
	}
	req->body = body.data;
	req->body_len = body.len;
	return ts_request_safe(req, error);
}

/* Reads notification `id` (with its webhook subscription) through SPI. */
bool
ts_fetch_notification(int64 id, TsNotification *n)
{
	Oid			nspid = ts_extension_schema(false);
	Oid			type = INT8OID;
	Datum		arg = Int64GetDatum(id);
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		meta;

	if (SPI_execute_with_args(psprintf(
		"SELECT n.id, n.channel, n.recipient, n.subject, n.body, n.metadata, n.idempotency_key,"
		" w.url, w.secret, n.body_format, n.text_body, pr.provider, pr.settings"
		" FROM %s n LEFT JOIN %s w ON n.channel = 'webhook'"
		" AND w.id = CASE WHEN n.recipient ~ '^[0-9]{1,18}$' THEN n.recipient::bigint END"
		" LEFT JOIN %s pr ON pr.channel = n.channel"
		" WHERE n.id = $1",
		ts_qualified_name(nspid, "support_troubleshooting_notifications"),
		ts_qualified_name(nspid, "support_webhooks"),
		ts_qualified_name(nspid, "support_troubleshooting_providers")),
							  1, &type, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the notification");
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	memset(n, 0, sizeof(*n));
	n->id = id;
	n->channel = SPI_getvalue(tup, desc, 2);
	n->recipient = SPI_getvalue(tup, desc, 3);
	n->subject = SPI_getvalue(tup, desc, 4);
	n->body = SPI_getvalue(tup, desc, 5);
	if (n->body == NULL)
		n->body = "";
	meta = SPI_getbinval(tup, desc, 6, &isnull);
	n->metadata = isnull ? NULL : DatumGetJsonbPCopy(meta);
	n->idempotency_key = SPI_getvalue(tup, desc, 7);
	n->webhook_url = SPI_getvalue(tup, desc, 8);
	n->webhook_secret = SPI_getvalue(tup, desc, 9);
	n->body_format = SPI_getvalue(tup, desc, 10);
	n->text_body = SPI_getvalue(tup, desc, 11);
	n->provider = SPI_getvalue(tup, desc, 12);
	meta = SPI_getbinval(tup, desc, 13, &isnull);
	n->settings = isnull ? NULL : DatumGetJsonbPCopy(meta);
	return true;
}

/*
 * troubleshooting_notification_request(id, at): the request the dispatcher
 * would send, as {method, url, headers, body}.  Owner only: it shows URLs
 * that carry tokens.
 */
Datum
troubleshooting_notification_request(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	TimestampTz at = PG_ARGISNULL(1) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(1);
	MemoryContext outer = CurrentMemoryContext;
	TsNotification n;
	TsRequest	req;
	char	   *error = NULL;
	StringInfoData out;
	ListCell   *lc;
	bool		first = true;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!ts_fetch_notification(id, &n))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("notification " INT64_FORMAT " does not exist", id)));
	MemoryContextSwitchTo(outer);
	if (!ts_build_request(&n, at, &req, &error))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("notification " INT64_FORMAT " cannot be sent", id),
				 errdetail("%s", error)));
	initStringInfo(&out);
	appendStringInfo(&out, "{\"method\": \"%s\", ", req.smtp ? "SMTP" : "POST");
	ts_json_pair(&out, "url", req.url);
	appendStringInfoString(&out, ", \"headers\": {");
	foreach(lc, req.headers)
	{
		char	   *h = lfirst(lc);
		char	   *colon = strchr(h, ':');

		char	   *name = pnstrdup(h, colon - h);

		if (!first)
			appendStringInfoString(&out, ", ");
		first = false;
		/* credentials stay out of the preview */
		ts_json_pair(&out, name, req.secret_headers && (pg_strcasecmp(name, "Authorization") == 0 ||
														pg_strcasecmp(name, "X-Amz-Security-Token") == 0)
					 ? "********" : colon + 2);
	}
	appendStringInfoString(&out, "}, ");
	if (req.username)
	{
		ts_json_pair(&out, "auth", req.aws_sigv4 ? req.aws_sigv4 : req.smtp ? "login" : "basic");
		appendStringInfoString(&out, ", ");
	}
	if (req.smtp)
	{
		ts_json_pair(&out, "mail_from", req.mail_from);
		appendStringInfoString(&out, ", ");
		ts_json_pair(&out, "mail_rcpt", req.mail_rcpt);
		appendStringInfoString(&out, ", ");
	}
	if (memchr(req.body, '\0', req.body_len) == NULL &&
		pg_verify_mbstr(PG_UTF8, req.body, req.body_len, true))
		ts_json_pair(&out, "body", req.body);
	else
	{
		int			max = pg_b64_enc_len(req.body_len);
		char	   *enc = palloc(max + 1);
		int			len = pg_b64_encode(req.body, req.body_len, enc, max);

		enc[len] = '\0';
		ts_json_pair(&out, "body_base64", enc);
	}
	appendStringInfoChar(&out, '}');
	SPI_finish();
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
}
