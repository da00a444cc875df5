/*
 * webhook.c
 *	  Requests of the generic webhook channel, signed per Standard
 *	  Webhooks: the body as the row holds it, a webhook-id (the idempotency
 *	  key as a token), a webhook-timestamp (Unix seconds) and, when the
 *	  subscription has a secret, webhook-signature "v1,<base64>" of the
 *	  HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed with the decoded
 *	  whsec_ secret.  The URL is the subscription's, else the recipient.
 */
#include "postgres.h"

#include "notify/channels/webhook.h"
#include "notify/channels/wire.h"

#include "common/base64.h"
#include "lib/stringinfo.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#if PG_VERSION_NUM >= 140000
#include "common/hmac.h"
#else
#include "common/sha2.h"
#endif

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
static char *
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

/* Builds the request of a webhook notification at attempt_time; body receives the payload. */
bool
ts_build_webhook_request(TsNotification *n, TimestampTz attempt_time, TsRequest *req, StringInfo body,
						 char **error)
{
	/* the spec forbids full stops in ids: the token encodes them */
	char	   *msg_id = ts_header_token(n->idempotency_key, ":@", error);
	int64		ts = (int64) (attempt_time / USECS_PER_SEC) +
		(int64) ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);

	if (msg_id == NULL)
		return false;
	req->url = n->webhook_url ? pstrdup(n->webhook_url) : pstrdup(n->recipient);
	appendStringInfoString(body, n->body);
	req->headers = lappend(req->headers, psprintf("webhook-id: %s", msg_id));
	req->headers = lappend(req->headers, psprintf("webhook-timestamp: " INT64_FORMAT, ts));
	if (n->webhook_secret)
		req->headers = lappend(req->headers,
							   psprintf("webhook-signature: %s",
										ts_webhook_signature(n->webhook_secret, msg_id, ts,
															 body->data, body->len)));
	req->headers = lappend(req->headers, pstrdup("User-Agent: " TS_USER_AGENT));
	return true;
}
