/*
 * sms.c
 *	  SMS through providers: Twilio Messages (form fields, basic auth with
 *	  the account SID; from a number or a messaging service) and Amazon SNS
 *	  Publish to a phone number (form fields, SigV4, transactional).
 */
#include "postgres.h"

#include "notify/channels/provider_input.h"
#include "notify/channels/wire.h"
#include "notify/channels/sms.h"

#include "lib/stringinfo.h"

/* The Twilio Messages request (form fields, basic auth with the account SID). */
bool
ts_twilio_request(TsNotification *n, const TsProviderInput *in, TsRequest *req, StringInfo body, char **error)
{
	char	   *sid = ts_provider_setting(n, "account_sid");
	char	   *service = ts_provider_setting(n, "messaging_service_sid");

	req->username = sid;
	req->password = ts_provider_secret(n, "auth_token", true, error);
	if (*error)
		return false;
	if (sid == NULL || (in->from == NULL && service == NULL))
	{
		*error = pstrdup("twilio settings need account_sid and from or messaging_service_sid");
		return false;
	}
	req->url = psprintf("%s/2010-04-01/Accounts/%s/Messages.json",
						ts_provider_base_url(n, "https://api.twilio.com", NULL), sid);
	req->headers = lappend(req->headers, pstrdup("Content-Type: application/x-www-form-urlencoded"));
	ts_form_field(body, "To", n->recipient);
	if (service)
		ts_form_field(body, "MessagingServiceSid", service);
	else
		ts_form_field(body, "From", in->from);
	ts_form_field(body, "Body", in->text ? in->text : "");
	return true;
}

/* The Amazon SNS Publish request to a phone number (form fields, SigV4). */
bool
ts_sns_request(TsNotification *n, const TsProviderInput *in, TsRequest *req, StringInfo body, char **error)
{
	if (!ts_aws_auth(n, in, req, "sns", "https://sns.%s.amazonaws.com", "/", error))
		return false;
	req->headers = lappend(req->headers,
						   pstrdup("Content-Type: application/x-www-form-urlencoded; charset=utf-8"));
	ts_form_field(body, "Action", "Publish");
	ts_form_field(body, "Version", "2010-03-31");
	ts_form_field(body, "PhoneNumber", n->recipient);
	ts_form_field(body, "Message", in->text ? in->text : "");
	ts_form_field(body, "MessageAttributes.entry.1.Name", "AWS.SNS.SMS.SMSType");
	ts_form_field(body, "MessageAttributes.entry.1.Value.DataType", "String");
	ts_form_field(body, "MessageAttributes.entry.1.Value.StringValue", "Transactional");
	return true;
}
