/*
 * queue.c
 *	  The notification outbox's SQL API: enqueueing one or many notifications
 *	  in the caller's transaction (validated, template rendered for the
 *	  channel, idempotent by key), cancelling and retrying.  Sending is the
 *	  dispatcher's business.
 *
 * E-mail and SMS rows are checked here too: one e-mail address or an E.164
 * number as recipient, attachments only on e-mail, SMS bodies of at most
 * 1600 characters; HTML e-mail gets the open-tracking pixel when
 * email_open_tracking_url is set.  Idempotency keys must be 1 to 200
 * characters from A-Z a-z 0-9 . _ : @ - (content.c).
 */
#include "postgres.h"

#include "compat.h"
#include "config/config.h"
#include "base/extschema.h"
#include "notify/enqueue/address.h"
#include "notify/enqueue/content.h"
#include "notify/send/wake.h"
#include "notify/enqueue/render.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(send_troubleshooting_notification);
PG_FUNCTION_INFO_V1(send_troubleshooting_notifications_bulk);
PG_FUNCTION_INFO_V1(cancel_troubleshooting_notification);
PG_FUNCTION_INFO_V1(retry_troubleshooting_notification);

#define TS_MAX_RECIPIENT 2048

/* One notification to enqueue. */
typedef struct TsEnqueue
{
	char	   *channel;
	char	   *recipient;
	char	   *template;		/* NULL: webhook event whose body is the data */
	Jsonb	   *data;
	char	   *priority;
	Jsonb	   *metadata;
	char	   *idempotency_key;	/* NULL: a new one */
	bool		has_send_after;
	TimestampTz send_after;
} TsEnqueue;

/* Errors unless channel is enabled in config notification_channels. */
static void
ts_check_channel_enabled(const char *channel)
{
	ListCell   *lc;

	ts_check_channel_name(channel);
	foreach(lc, ts_config_get_list("notification_channels"))
		if (strcmp((char *) lfirst(lc), channel) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("channel \"%s\" is disabled", channel),
			 errdetail("Configuration key notification_channels is \"%s\".",
					   ts_config_get_text("notification_channels")),
			 errhint("SELECT set_troubleshooting_config('notification_channels', ...) enables it.")));
}

/*
 * Checks metadata's webhook_url, where a chat notification is posted: a JSON
 * string that ts_check_webhook_url accepts.
 */
static void
ts_check_metadata_webhook_url(Jsonb *metadata)
{
	JsonbValue *v;

	if (metadata == NULL || !JB_ROOT_IS_OBJECT(metadata))
		return;
	v = getKeyJsonValueFromContainer(&metadata->root, "webhook_url", 11, NULL);
	if (v == NULL || v->type == jbvNull)
		return;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid webhook_url in metadata"),
				 errdetail("It must be a JSON string.")));
	ts_check_webhook_url("webhook_url in metadata", pnstrdup(v->val.string.val, v->val.string.len),
						 "Give the http(s) URL of the chat webhook.");
}

/* Checks the parts of a notification that do not need the database. */
static void
ts_enqueue_validate(TsEnqueue *n)
{
	if (n->channel == NULL)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("channel must not be null")));
	ts_check_channel_enabled(n->channel);
	if (n->recipient == NULL || n->recipient[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recipient must not be empty")));
	ts_check_recipient(n->channel, n->recipient);
	if (strlen(n->recipient) > TS_MAX_RECIPIENT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recipient is longer than %d bytes", TS_MAX_RECIPIENT)));
	if (ts_has_control_char(n->recipient))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recipient must not contain control characters")));
	if (n->priority == NULL ||
		(strcmp(n->priority, "low") != 0 && strcmp(n->priority, "normal") != 0 &&
		 strcmp(n->priority, "high") != 0 && strcmp(n->priority, "critical") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown priority \"%s\"", n->priority ? n->priority : "(null)"),
				 errhint("Use low, normal, high or critical.")));
	if (n->template == NULL && strcmp(n->channel, "webhook") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("template must not be null for channel \"%s\"", n->channel)));
	if (n->metadata && !JB_ROOT_IS_OBJECT(n->metadata))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metadata must be a JSON object")));
	if (n->data && !JB_ROOT_IS_OBJECT(n->data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("data must be a JSON object")));
	ts_check_attachments(n->channel, n->metadata);
	ts_check_metadata_webhook_url(n->metadata);
	if (n->idempotency_key)
		ts_check_idempotency_key(n->idempotency_key);
}

/* Returns the id of a row with this idempotency key, or 0. */
static int64
ts_existing_id(const char *table, const char *key, Datum session_id)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2] = {CStringGetTextDatum(key), session_id};
	bool		isnull;

	if (SPI_execute_with_args(psprintf("SELECT id FROM %s WHERE idempotency_key = $1"
									   " AND session_id = $2", table),
							  2, types, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read notifications");
	if (SPI_processed == 0)
		return 0;
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Checks a webhook recipient: an http(s) URL or the id of an active subscription. */
static void
ts_check_webhook_recipient(Oid nspid, const char *recipient)
{
	const char *p = recipient;
	Oid			type = INT8OID;
	Datum		arg;

	if (pg_strncasecmp(recipient, "http://", 7) == 0 || pg_strncasecmp(recipient, "https://", 8) == 0)
		return;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p != '\0' || p == recipient || p - recipient > 18)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook recipient must be an http(s) URL or a support_webhooks id")));
	arg = Int64GetDatum(pg_strtoint64(recipient));
	if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE id = $1 AND active",
									   ts_qualified_name(nspid, "support_webhooks")),
							  1, &type, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read support_webhooks");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no active webhook subscription with id %s", recipient)));
}

/*
 * The session a notification is about: the "session_id" string of its data
 * when such a session exists, else '' (none).  Looked up on its own, not in
 * the INSERT: Citus routes an INSERT with plain values only.
 */
static Datum
ts_notification_session(Oid nspid, Jsonb *data)
{
	JsonbValue *sid = getKeyJsonValueFromContainer(&data->root, "session_id", 10, NULL);
	Oid			type = TEXTOID;
	Datum		arg;

	if (sid == NULL || sid->type != jbvString)
		return CStringGetTextDatum("");
	arg = PointerGetDatum(cstring_to_text_with_len(sid->val.string.val, sid->val.string.len));
	if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE session_id = $1",
									   ts_qualified_name(nspid, "support_troubleshooting_sessions")),
							  1, &type, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read sessions");
	return SPI_processed > 0 ? arg : CStringGetTextDatum("");
}

/* Inserts one pending notification (or finds it by key); returns its id. */
static int64
ts_enqueue(TsEnqueue *n)
{
	Oid			nspid = ts_extension_schema(false);
	char	   *table = ts_qualified_name(nspid, "support_troubleshooting_notifications");
	TsRendered	r = {0};
	char	   *token = NULL;
	Oid			types[14] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID,
	JSONBOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		v[14];
	char		nulls[14];
	Datum		session_id;
	int64		id;
	bool		isnull;

	ts_enqueue_validate(n);
	if (n->data == NULL)
		n->data = ts_empty_jsonb();
	if (n->metadata == NULL)
		n->metadata = ts_empty_jsonb();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	session_id = ts_notification_session(nspid, n->data);
	if (n->idempotency_key && (id = ts_existing_id(table, n->idempotency_key, session_id)) != 0)
	{
		SPI_finish();
		return id;				/* the same request again: nothing new */
	}
	if (strcmp(n->channel, "webhook") == 0)
		ts_check_webhook_recipient(nspid, n->recipient);
	if (n->template)
		ts_render_stored_full(n->template, n->channel, n->data, &r);
	else
	{
		r.body = JsonbToCString(NULL, &n->data->root, VARSIZE(n->data));
		r.format = "json";
	}
	if (strcmp(n->channel, "sms") == 0)
		ts_check_sms_length(r.body);
	if (strcmp(n->channel, "email") == 0 && strcmp(r.format, "html") == 0)
	{
		char	   *url = ts_config_get_text("email_open_tracking_url");

		if (url[0] != '\0')
		{
			token = ts_new_tracking_token();
			r.body = ts_add_tracking_pixel(r.body, url, token);
		}
	}

	memset(nulls, ' ', sizeof(nulls));
	v[0] = CStringGetTextDatum(n->channel);
	v[1] = CStringGetTextDatum(n->recipient);
	v[2] = n->template ? CStringGetTextDatum(n->template) : (Datum) 0;
	nulls[2] = n->template ? ' ' : 'n';
	v[3] = CStringGetTextDatum(n->priority);
	v[4] = r.subject ? CStringGetTextDatum(r.subject) : (Datum) 0;
	nulls[4] = r.subject ? ' ' : 'n';
	v[5] = CStringGetTextDatum(r.body);
	v[6] = JsonbPGetDatum(n->data);
	v[7] = JsonbPGetDatum(n->metadata);
	v[8] = n->idempotency_key ? CStringGetTextDatum(n->idempotency_key) : (Datum) 0;
	nulls[8] = n->idempotency_key ? ' ' : 'n';
	v[9] = session_id;
	v[10] = TimestampTzGetDatum(n->has_send_after ? n->send_after : GetCurrentTransactionStartTimestamp());
	v[11] = CStringGetTextDatum(r.format);
	v[12] = r.text_body ? CStringGetTextDatum(r.text_body) : (Datum) 0;
	nulls[12] = r.text_body ? ' ' : 'n';
	v[13] = token ? CStringGetTextDatum(token) : (Datum) 0;
	nulls[13] = token ? ' ' : 'n';

	if (SPI_execute_with_args(psprintf(
		"INSERT INTO %s AS n (channel, recipient, template, priority, subject, body, data, metadata,"
		" idempotency_key, session_id, next_attempt_at, body_format, text_body, tracking_token)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, gen_random_uuid()::text),"
		"  $10, $11, $12, $13, $14)"
		" ON CONFLICT (idempotency_key, session_id) DO NOTHING RETURNING id",
		table),
							  14, types, v, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert the notification");
	if (SPI_processed == 1)
	{
		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

		/*
		 * the outbox's trigger wakes this node's dispatcher at commit; on
		 * Citus it fires on the node of the row's shard, so the dispatcher
		 * of the node enqueueing (the coordinator's) is woken here too
		 */
		ts_request_wake();
	}
	else
		id = ts_existing_id(table, n->idempotency_key, session_id);	/* a concurrent twin won */
	SPI_finish();
	return id;
}

/* Returns a text argument as a C string, or NULL. */
static char *
ts_text_arg(FunctionCallInfo fcinfo, int i)
{
	return PG_ARGISNULL(i) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(i));
}

/* send_troubleshooting_notification(channel, recipient, template, data, priority, metadata, key, send_after) */
Datum
send_troubleshooting_notification(PG_FUNCTION_ARGS)
{
	TsEnqueue	n;

	n.channel = ts_text_arg(fcinfo, 0);
	n.recipient = ts_text_arg(fcinfo, 1);
	n.template = ts_text_arg(fcinfo, 2);
	n.data = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	n.priority = PG_ARGISNULL(4) ? "normal" : ts_text_arg(fcinfo, 4);
	n.metadata = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	n.idempotency_key = ts_text_arg(fcinfo, 6);
	n.has_send_after = !PG_ARGISNULL(7);
	n.send_after = n.has_send_after ? PG_GETARG_TIMESTAMPTZ(7) : 0;
	PG_RETURN_INT64(ts_enqueue(&n));
}

/* Returns a string field of a JSON object, or NULL (wrong types are errors). */
static char *
ts_json_field(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" must be a string", key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Names the failing entry of a bulk call in any error's context. */
static void
ts_bulk_context(void *arg)
{
	errcontext("bulk notification entry %d (counting from 0)", *(int *) arg);
}

/* send_troubleshooting_notifications_bulk(configs, data): all or none. */
Datum
send_troubleshooting_notifications_bulk(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *configs;
	Jsonb	   *data;
	int			count;
	int			index = 0;
	ErrorContextCallback errcb;
	Tuplestorestate *store;
	TupleDesc	desc;
	MemoryContext old;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("p_configs must not be null")));
	configs = PG_GETARG_JSONB_P(0);
	data = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	if (!JB_ROOT_IS_ARRAY(configs) || JB_ROOT_IS_SCALAR(configs))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_configs must be a JSON array of notification objects")));
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(desc, 1, "id", INT8OID, -1, 0);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);

	errcb.callback = ts_bulk_context;
	errcb.arg = &index;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	count = JsonContainerSize(&configs->root);
	for (index = 0; index < count; index++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&configs->root, index);
		JsonbValue *meta;
		TsEnqueue	n;
		Datum		id;
		bool		isnull = false;

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("entry is not a JSON object")));
		n.channel = ts_json_field(e->val.binary.data, "channel");
		n.recipient = ts_json_field(e->val.binary.data, "recipient");
		n.template = ts_json_field(e->val.binary.data, "template");
		n.priority = ts_json_field(e->val.binary.data, "priority");
		if (n.priority == NULL)
			n.priority = "normal";
		n.idempotency_key = ts_json_field(e->val.binary.data, "idempotency_key");
		meta = getKeyJsonValueFromContainer(e->val.binary.data, "metadata", 8, NULL);
		n.metadata = meta ? JsonbValueToJsonb(meta) : NULL;
		n.data = data;
		n.has_send_after = false;
		n.send_after = 0;
		id = Int64GetDatum(ts_enqueue(&n));
		tuplestore_putvalues(store, desc, &id, &isnull);
	}
	error_context_stack = errcb.previous;

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	return (Datum) 0;
}

/*
 * Runs an UPDATE on one notification ($1 its id, $2 its session id, which
 * is looked up first: on Citus the row's shard); returns rows changed,
 * erroring if it does not exist.
 */
static uint64
ts_update_one(const char *set_where, int64 id)
{
	Oid			nspid = ts_extension_schema(false);
	char	   *table = ts_qualified_name(nspid, "support_troubleshooting_notifications");
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2];
	bool		isnull;
	uint64		n;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = Int64GetDatum(id);
	if (SPI_execute_with_args(psprintf("SELECT session_id FROM %s WHERE id = $1", table),
							  1, types, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read notifications");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("notification " INT64_FORMAT " does not exist", id)));
	args[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (SPI_execute_with_args(psprintf("UPDATE %s %s", table, set_where),
							  2, types, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update the notification");
	n = SPI_processed;
	if (n == 0)
	{
		/* (retention may have deleted it meanwhile) */
		if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE id = $1 AND session_id = $2", table),
								  2, types, args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read notifications");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("notification " INT64_FORMAT " does not exist", id)));
	}
	SPI_finish();
	return n;
}

/* cancel_troubleshooting_notification(id): true if it was still waiting. */
Datum
cancel_troubleshooting_notification(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ts_update_one("SET status = 'cancelled'"
								 " WHERE id = $1 AND session_id = $2 AND status IN ('pending', 'failed')",
								 PG_GETARG_INT64(0)) == 1);
}

/* retry_troubleshooting_notification(id): a failed one back to pending. */
Datum
retry_troubleshooting_notification(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);

	if (ts_update_one("SET status = 'pending', attempts = 0, failed_at = NULL,"
					  " next_attempt_at = now(), lease_expires_at = NULL"
					  " WHERE id = $1 AND session_id = $2 AND status = 'failed'", id) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("notification " INT64_FORMAT " has not failed", id),
				 errhint("Only failed notifications can be retried.")));
	ts_request_wake();
	PG_RETURN_BOOL(true);
}
