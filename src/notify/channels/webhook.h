/*
 * webhook.h
 *	  Requests of the generic webhook channel (Standard Webhooks).
 */
#ifndef TS_WEBHOOK_H
#define TS_WEBHOOK_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "notify/channels/message.h"

extern bool ts_build_webhook_request(TsNotification *n, TimestampTz attempt_time, TsRequest *req,
									 StringInfo body, char **error);

#endif							/* TS_WEBHOOK_H */
