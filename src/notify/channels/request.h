/*
 * request.h
 *	  Notification rows and the HTTP requests built from them.
 */
#ifndef TS_REQUEST_H
#define TS_REQUEST_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#include "notify/channels/message.h"

extern bool ts_build_request(TsNotification *n, TimestampTz attempt_time, TsRequest *req,
							 char **error);

#endif							/* TS_REQUEST_H */
