/*
 * email_api.h
 *	  E-mail through HTTP APIs: SendGrid, Mailgun, Amazon SES.
 */
#ifndef TS_EMAIL_API_H
#define TS_EMAIL_API_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "notify/channels/provider_input.h"

extern bool ts_sendgrid_request(TsNotification *n, const TsProviderInput *in, TsRequest *req,
							StringInfo body, char **error);
extern bool ts_mailgun_request(TsNotification *n, const TsProviderInput *in, TsRequest *req,
							StringInfo body, char **error);
extern bool ts_ses_request(TsNotification *n, const TsProviderInput *in, TsRequest *req,
							StringInfo body, char **error);

#endif							/* TS_EMAIL_API_H */
