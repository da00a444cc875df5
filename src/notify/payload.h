/*
 * payload.h
 *	  Notification rows and the HTTP requests built from them.
 */
#ifndef TS_PAYLOAD_H
#define TS_PAYLOAD_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* What the request builder needs of a notification row. */
typedef struct TsNotification
{
	int64		id;
	char	   *channel;
	char	   *recipient;
	char	   *subject;		/* may be NULL */
	char	   *body;
	Jsonb	   *metadata;		/* may be NULL */
	char	   *idempotency_key;
	char	   *webhook_url;	/* the subscription's, for webhook rows */
	char	   *webhook_secret;
} TsNotification;

typedef struct TsRequest
{
	char	   *url;
	List	   *headers;		/* "Name: value" strings */
	char	   *body;
	size_t		body_len;
} TsRequest;

extern char *ts_webhook_signature(const char *secret, const char *msg_id, int64 timestamp,
								  const char *body, size_t body_len);
extern bool ts_build_request(TsNotification *n, TimestampTz attempt_time, TsRequest *req,
							 char **error);
extern bool ts_fetch_notification(int64 id, TsNotification *n);

#endif							/* TS_PAYLOAD_H */
