/*
 * email_api.c
 *	  E-mail through HTTP APIs: SendGrid v3 mail/send (JSON, bearer key),
 *	  Mailgun messages (multipart/form-data, basic auth as "api") and
 *	  Amazon SES v2 outbound-emails (JSON, SigV4).  Each carries the text
 *	  and HTML bodies, the attachments and the notification id.
 */
#include "postgres.h"

#include "notify/channels/mime.h"
#include "notify/channels/provider_input.h"
#include "notify/channels/wire.h"
#include "notify/channels/email_api.h"

#include "lib/stringinfo.h"
#include "utils/json.h"

/* The JSON names an API gives an attachment's fields. */
typedef struct TsAttachmentNames
{
	const char *list;			/* the array of attachments */
	const char *content;		/* base64 content */
	const char *filename;
	const char *type;
	const char *disposition;
	const char *disposition_value;
	bool		filename_first; /* the file name comes before the content */
} TsAttachmentNames;

static const TsAttachmentNames ts_sendgrid_names = {
	"attachments", "content", "filename", "type", "disposition", "attachment", false
};
static const TsAttachmentNames ts_ses_names = {
	"Attachments", "RawContent", "FileName", "ContentType", "ContentDisposition", "ATTACHMENT", true
};

/* Appends `, "list": [{...}, ...]` describing the attachments, when there are any. */
static void
ts_json_attachments(StringInfo body, List *attachments, const TsAttachmentNames *k)
{
	ListCell   *lc;

	if (attachments == NIL)
		return;
	appendStringInfo(body, ", \"%s\": [", k->list);
	foreach(lc, attachments)
	{
		TsAttachment *a = lfirst(lc);

		appendStringInfoString(body, foreach_current_index(lc) > 0 ? ", {" : "{");
		if (k->filename_first)
			ts_json_member(body, k->filename, a->filename);
		ts_json_member(body, k->content, a->b64);
		if (!k->filename_first)
			ts_json_member(body, k->filename, a->filename);
		ts_json_member(body, k->type, a->content_type);
		ts_json_member(body, k->disposition, k->disposition_value);
		appendStringInfoChar(body, '}');
	}
	appendStringInfoChar(body, ']');
}

/* The SendGrid v3 mail/send request (JSON, bearer key). */
bool
ts_sendgrid_request(TsNotification *n, const TsProviderInput *in, TsRequest *req, StringInfo body, char **error)
{
	char	   *key = ts_provider_secret(n, "api_key", true, error);
	char	   *name = ts_display_name(in->from ? in->from : "");

	if (*error)
		return false;
	req->url = psprintf("%s/v3/mail/send", ts_provider_base_url(n, "https://api.sendgrid.com", NULL));
	req->headers = lappend(req->headers, pstrdup("Content-Type: application/json"));
	req->headers = lappend(req->headers, psprintf("Authorization: Bearer %s", key));
	req->secret_headers = true;
	appendStringInfoString(body, "{\"personalizations\": [{\"to\": [{");
	ts_json_member(body, "email", n->recipient);
	appendStringInfoString(body, "}]}], \"from\": {");
	ts_json_member(body, "email", ts_addr_spec(in->from ? in->from : ""));
	if (name)
		ts_json_member(body, "name", name);
	appendStringInfoString(body, "}, ");
	ts_json_member(body, "subject", in->subject);
	appendStringInfoString(body, ", \"content\": [");
	if (in->text)
	{
		appendStringInfoString(body, "{\"type\": \"text/plain\", ");
		ts_json_member(body, "value", *in->text ? in->text : " ");
		appendStringInfoString(body, in->html ? "}, " : "}");
	}
	if (in->html)
	{
		appendStringInfoString(body, "{\"type\": \"text/html\", ");
		ts_json_member(body, "value", *in->html ? in->html : " ");
		appendStringInfoChar(body, '}');
	}
	appendStringInfoChar(body, ']');
	ts_json_attachments(body, in->attachments, &ts_sendgrid_names);
	appendStringInfo(body, ", \"custom_args\": {\"notification_id\": \"" INT64_FORMAT "\"}}", n->id);
	return true;
}

/* The Mailgun messages request (multipart/form-data, basic auth "api"). */
bool
ts_mailgun_request(TsNotification *n, const TsProviderInput *in, TsRequest *req, StringInfo body, char **error)
{
	ListCell   *lc;
	char	   *boundary = ts_boundary("f");
	char	   *domain = ts_provider_setting(n, "domain");
	char	   *id = psprintf(INT64_FORMAT, n->id);

	req->username = pstrdup("api");
	req->password = ts_provider_secret(n, "api_key", true, error);
	if (*error)
		return false;
	if (domain == NULL)
	{
		*error = pstrdup("mailgun setting domain is missing");
		return false;
	}
	req->url = psprintf("%s/v3/%s/messages", ts_provider_base_url(n, "https://api.mailgun.net", NULL), domain);
	req->headers = lappend(req->headers, psprintf("Content-Type: multipart/form-data; boundary=%s", boundary));
	ts_multipart_field(body, boundary, "from", NULL, NULL, in->from ? in->from : "", strlen(in->from ? in->from : ""));
	ts_multipart_field(body, boundary, "to", NULL, NULL, n->recipient, strlen(n->recipient));
	ts_multipart_field(body, boundary, "subject", NULL, NULL, in->subject, strlen(in->subject));
	if (in->text)
		ts_multipart_field(body, boundary, "text", NULL, NULL, in->text, strlen(in->text));
	if (in->html)
		ts_multipart_field(body, boundary, "html", NULL, NULL, in->html, strlen(in->html));
	ts_multipart_field(body, boundary, "v:notification_id", NULL, NULL, id, strlen(id));
	foreach(lc, in->attachments)
	{
		TsAttachment *a = lfirst(lc);

		ts_multipart_field(body, boundary, "attachment", a->filename, a->content_type, a->data, a->len);
	}
	appendStringInfo(body, "--%s--\r\n", boundary);
	return true;
}

/* The Amazon SES v2 outbound-emails request (JSON, SigV4). */
bool
ts_ses_request(TsNotification *n, const TsProviderInput *in, TsRequest *req, StringInfo body, char **error)
{
	if (!ts_aws_auth(n, in, req, "ses", "https://email.%s.amazonaws.com", "/v2/email/outbound-emails", error))
		return false;
	req->headers = lappend(req->headers, pstrdup("Content-Type: application/json"));
	appendStringInfoChar(body, '{');
	ts_json_member(body, "FromEmailAddress", in->from ? in->from : "");
	appendStringInfoString(body, ", \"Destination\": {\"ToAddresses\": [");
	escape_json(body, n->recipient);
	appendStringInfoString(body, "]}, \"Content\": {\"Simple\": {\"Subject\": {");
	ts_json_member(body, "Data", in->subject);
	ts_json_member(body, "Charset", "UTF-8");
	appendStringInfoString(body, "}, \"Body\": {");
	if (in->text)
	{
		appendStringInfoString(body, "\"Text\": {");
		ts_json_member(body, "Data", in->text);
		ts_json_member(body, "Charset", "UTF-8");
		appendStringInfoString(body, in->html ? "}, " : "}");
	}
	if (in->html)
	{
		appendStringInfoString(body, "\"Html\": {");
		ts_json_member(body, "Data", in->html);
		ts_json_member(body, "Charset", "UTF-8");
		appendStringInfoChar(body, '}');
	}
	appendStringInfoChar(body, '}');
	ts_json_attachments(body, in->attachments, &ts_ses_names);
	appendStringInfoString(body, "}}}");
	return true;
}
