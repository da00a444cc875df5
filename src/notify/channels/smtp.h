/*
 * smtp.h
 *	  The SMTP transfer of an e-mail notification.
 */
#ifndef TS_SMTP_H
#define TS_SMTP_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "notify/channels/provider_input.h"

extern bool ts_smtp_request(TsNotification *n, const TsProviderInput *in, TsRequest *req,
							char **error);

#endif							/* TS_SMTP_H */
