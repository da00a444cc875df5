/*
 * providers.h
 *	  E-mail and SMS requests through the channel's provider.
 */
#ifndef TS_PROVIDERS_H
#define TS_PROVIDERS_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "notify/channels/message.h"

extern bool ts_build_provider_request(TsNotification *n, TimestampTz at, TsRequest *req,
									  char **error);

#endif							/* TS_PROVIDERS_H */
