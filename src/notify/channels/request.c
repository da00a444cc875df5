/*
 * request.c
 *	  Turns a notification row into the request its channel expects: the
 *	  row is read with its webhook subscription and its channel's provider,
 *	  handed to the builder of its family (chat.c, webhook.c, or providers.c
 *	  for e-mail and SMS), and the result checked one last time: no control
 *	  character in the URL or any header, whatever a row, secret or setting
 *	  holds.  The dispatcher sends what this builds;
 *	  troubleshooting_notification_request() shows it to the extension's
 *	  owner, credentials masked.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "notify/enqueue/address.h"
#include "notify/channel_table.h"
#include "notify/channels/chat.h"
#include "notify/channels/providers.h"
#include "notify/channels/request.h"
#include "notify/channels/webhook.h"
#include "notify/channels/wire.h"

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#if PG_VERSION_NUM >= 140000
#else
#endif

PG_FUNCTION_INFO_V1(troubleshooting_notification_request);


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

/*
 * Builds the request for one notification at attempt_time.  Returns false,
 * with *error set, when the row cannot be sent (no destination, say).
 */
bool
ts_build_request(TsNotification *n, TimestampTz attempt_time, TsRequest *req, char **error)
{
	StringInfoData body;

	memset(req, 0, sizeof(*req));
	if (ts_channel_in_family(n->channel, TS_CHANNEL_PROVIDER))
		return ts_build_provider_request(n, attempt_time, req, error) && ts_request_safe(req, error);
	req->headers = lappend(req->headers, pstrdup("Content-Type: application/json"));
	initStringInfo(&body);

	if (ts_channel_in_family(n->channel, TS_CHANNEL_WEBHOOK))
	{
		if (!ts_build_webhook_request(n, attempt_time, req, &body, error))
			return false;
	}
	else if (ts_channel_in_family(n->channel, TS_CHANNEL_CHAT))
	{
		if (!ts_build_chat_request(n, req, &body, error))
			return false;
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
static bool
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
