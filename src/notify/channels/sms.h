/*
 * sms.h
 *	  SMS through providers: Twilio, Amazon SNS.
 */
#ifndef TS_SMS_H
#define TS_SMS_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "notify/channels/provider_input.h"

extern bool ts_twilio_request(TsNotification *n, const TsProviderInput *in, TsRequest *req,
							StringInfo body, char **error);
extern bool ts_sns_request(TsNotification *n, const TsProviderInput *in, TsRequest *req,
							StringInfo body, char **error);

#endif							/* TS_SMS_H */
