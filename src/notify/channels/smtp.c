/*
 * smtp.c
 *	  The SMTP transfer of an e-mail notification: the envelope (checked for
 *	  angle brackets and control characters, as it goes into SMTP commands
 *	  as is), login, TLS required unless the settings say tls none, and our
 *	  own Message-ID (the key as a token at the sender's domain).
 */
#include "postgres.h"

#include "notify/channels/mime.h"
#include "notify/channels/provider_input.h"
#include "notify/channels/smtp.h"
#include "notify/channels/wire.h"
#include "notify/enqueue/address.h"

/* The SMTP transfer of an e-mail: envelope, login, TLS and the RFC 5322 message. */
bool
ts_smtp_request(TsNotification *n, const TsProviderInput *in, TsRequest *req, char **error)
{
	char	   *tls = ts_provider_setting(n, "tls");
	char	   *addr = ts_addr_spec(in->from ? in->from : "");
	const char *at_sign = strchr(addr, '@');
	const char *domain = at_sign ? at_sign + 1 : "";
	/* the Message-ID's left part: the key without . : @ (not atext) */
	char	   *left = ts_header_token(n->idempotency_key, "", error);

	if (left == NULL)
		return false;
	/* the envelope goes into SMTP commands as is */
	if (strpbrk(addr, "<>") || ts_has_control_char(addr) ||
		strpbrk(n->recipient, "<>") || ts_has_control_char(n->recipient))
	{
		*error = psprintf("the %s has a control character or an angle bracket: not sent",
						  strpbrk(addr, "<>") || ts_has_control_char(addr) ? "from address" : "recipient");
		return false;
	}
	if (domain[0] == '\0' || strlen(domain) > 253 ||
		strspn(domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(domain))
		domain = "localhost";
	req->smtp = true;
	req->url = ts_provider_setting(n, "url");
	req->username = ts_provider_setting(n, "username");
	req->password = ts_provider_secret(n, "password", false, error);
	if (*error)
		return false;
	req->use_tls = tls == NULL || strcmp(tls, "none") != 0;
	req->ca_file = ts_provider_setting(n, "ca_file");
	req->mail_from = psprintf("<%s>", addr);
	req->mail_rcpt = psprintf("<%s>", n->recipient);
	req->own_id = psprintf("%s@%s", left, domain);
	req->body = ts_mime_message(n, in->from ? in->from : "", in->html, in->text, in->attachments,
								psprintf("<%s>", req->own_id), in->at);
	req->body_len = strlen(req->body);
	return true;
}
