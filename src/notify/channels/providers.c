/*
 * providers.c
 *	  E-mail and SMS through providers: gathers what every provider request
 *	  is made of (bodies, subject, the from and region settings, the
 *	  attachments) and hands the notification to its channel's provider:
 *	  SMTP (smtp.c), SendGrid, Mailgun and Amazon SES (email_api.c), Twilio
 *	  and Amazon SNS (sms.c).  What the provider answers is read by
 *	  notify/send/verdict.c.
 */
#include "postgres.h"

#include "notify/channels/email_api.h"
#include "notify/channels/provider_input.h"
#include "notify/channels/providers.h"
#include "notify/channels/sms.h"
#include "notify/channels/smtp.h"

#include "lib/stringinfo.h"

/*
 * Builds the request of an email or SMS notification for its channel's
 * provider.  Returns false with *error set when it cannot be built.
 */
bool
ts_build_provider_request(TsNotification *n, TimestampTz at, TsRequest *req, char **error)
{
	StringInfoData body;
	bool		is_html = n->body_format && strcmp(n->body_format, "html") == 0;
	TsProviderInput in = {
		.html = is_html ? n->body : NULL,
		.text = is_html ? n->text_body : n->body,
		.subject = n->subject && *n->subject ? n->subject : "(no subject)",
		.from = ts_provider_setting(n, "from"),
		.region = ts_provider_setting(n, "region"),
		.at = at,
	};
	bool		ok;

	initStringInfo(&body);
	if (n->provider == NULL)
	{
		*error = psprintf("no %s provider is set: call set_troubleshooting_provider()", n->channel);
		return false;
	}
	if (strcmp(n->channel, "email") == 0)
	{
		in.attachments = ts_provider_attachments(n, error);
		if (*error)
			return false;
	}

	if (strcmp(n->provider, "smtp") == 0)
		return ts_smtp_request(n, &in, req, error);
	else if (strcmp(n->provider, "sendgrid") == 0)
		ok = ts_sendgrid_request(n, &in, req, &body, error);
	else if (strcmp(n->provider, "mailgun") == 0)
		ok = ts_mailgun_request(n, &in, req, &body, error);
	else if (strcmp(n->provider, "ses") == 0)
		ok = ts_ses_request(n, &in, req, &body, error);
	else if (strcmp(n->provider, "twilio") == 0)
		ok = ts_twilio_request(n, &in, req, &body, error);
	else if (strcmp(n->provider, "sns") == 0)
		ok = ts_sns_request(n, &in, req, &body, error);
	else
	{
		*error = psprintf("unknown provider %s", n->provider);
		return false;
	}
	if (!ok)
		return false;
	req->body = body.data;
	req->body_len = body.len;
	return true;
}
