/*
 * address.c
 *	  Checks of the addresses notifications and providers use: one e-mail
 *	  address (no header injection, no lists), E.164 phone numbers, DNS host
 *	  names, http(s) base URLs, webhook URLs and SMTP server URLs, and the
 *	  recipient of each channel.  The checks return a phrase saying what is
 *	  wrong and never quote the value, so callers can report problems with
 *	  secrets without leaking them.  ts_destination_problem asks the
 *	  dispatcher's address policy (net/policy.c) about a URL whose host is a
 *	  literal address, without resolving or connecting to anything.
 */
#include "postgres.h"

#include "notify/channel_table.h"
#include "notify/enqueue/address.h"
#include "net/policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(ts_recipient_is_valid);

/* Longest recipient quoted back in an error detail. */
#define TS_SHOWABLE_MAX 100

/* True for an ASCII letter or digit. */
static bool
ts_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Checks a DNS name of len bytes: labels of letters, digits and hyphens (an
 * internationalised name in punycode, xn--, is that too), 1 to 63 bytes, not
 * starting or ending with a hyphen; 253 bytes at most.  need_dot: a domain
 * of at least two labels whose last one is not numeric (e-mail, Mailgun);
 * otherwise a host name (underscores allowed, as container names have them).
 */
const char *
ts_host_problem(const char *host, int len, bool need_dot)
{
	int			label = 0;
	bool		dot = false;
	bool		numeric = true;

	if (len == 0)
		return "is empty";
	if (len > 253)
		return "is longer than 253 characters";
	for (int i = 0; i <= len; i++)
	{
		unsigned char c = i < len ? (unsigned char) host[i] : '.';

		if (c == '.')
		{
			if (label == 0)
				return "has an empty label (a dot at either end or two dots in a row)";
			if (label > 63)
				return "has a label longer than 63 characters";
			if (host[i - 1] == '-' || host[i - label] == '-')
				return "has a label that starts or ends with a hyphen";
			if (i < len)
			{
				dot = true;
				numeric = true;
			}
			label = 0;
			continue;
		}
		if (c >= 0x80)
			return "has a non-ASCII character (write an internationalised name in punycode, xn--...)";
		if (!ts_is_alnum(c) && c != '-' && (need_dot || c != '_'))
			return "has a character other than letters, digits, hyphens and dots";
		if (c < '0' || c > '9')
			numeric = false;
		label++;
	}
	if (need_dot && !dot)
		return "has no dot";
	if (need_dot && numeric)
		return "ends in a numeric label";
	return NULL;
}

/*
 * Checks that s is exactly one e-mail address: no control characters (no
 * header injection), no separators of lists or display names, at most 254
 * bytes, a dot-atom local part of 1 to 64 bytes and a DNS domain.
 */
const char *
ts_email_problem(const char *s)
{
	const char *at = NULL;
	const char *p;
	const char *problem;

	for (p = s; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c < 0x20 || c == 0x7f)
			return "contains a control character (such as CR or LF)";
		if (c == ' ' || c == ',' || c == ';' || c == '<' || c == '>')
			return "is not one bare address (it has a space, comma, semicolon or angle bracket)";
		if (c == '@')
		{
			if (at)
				return "has more than one @";
			at = p;
		}
	}
	if (p - s > TS_EMAIL_MAX)
		return "is longer than 254 characters";
	if (at == NULL)
		return "has no @";
	if (at == s || at - s > 64)
		return "has a local part (before the @) that is empty or longer than 64 characters";
	for (p = s; p < at; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '.')
		{
			if (p == s || p + 1 == at || p[1] == '.')
				return "has a local part that starts or ends with a dot or has two dots in a row";
		}
		else if (!ts_is_alnum(c) && (c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) == NULL))
			return "has a character that is not allowed in the local part (before the @)";
	}
	problem = ts_host_problem(at + 1, strlen(at + 1), true);
	if (problem)
		return psprintf("has a domain (after the @) that %s", problem);
	return NULL;
}

/* Checks an E.164 phone number: + then 8 to 15 digits, the first not 0. */
const char *
ts_e164_problem(const char *s)
{
	const char *p;

	if (s[0] != '+')
		return "does not start with +";
	for (p = s + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return "has a character other than digits after the +";
	if (p - s - 1 < 8 || p - s - 1 > 15)
		return "does not have 8 to 15 digits";
	if (s[1] == '0')
		return "has a country code starting with 0";
	return NULL;
}

/* True for the loopback names an unencrypted SMTP connection may use. */
static bool
ts_is_loopback_host(const char *host, int len)
{
	return (len == 9 && pg_strncasecmp(host, "localhost", 9) == 0) ||
		(len == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
		(len == 5 && strncmp(host, "[::1]", 5) == 0) ||
		(len == 3 && strncmp(host, "::1", 3) == 0);
}

/*
 * Checks the authority of a URL (len bytes at p): host[:port] where host is
 * a name, an IPv4 address or an [IPv6] address; no user:password@.  Sets
 * *hostlen to the length of the host part.
 */
static const char *
ts_authority_problem(const char *p, int len, int *hostlen)
{
	const char *rest;
	const char *problem;

	if (memchr(p, '@', len))
		return "has a user name or password in it (user@host is not allowed)";
	if (len == 0)
		return "has no host";
	if (*p == '[')
	{
		const char *close = memchr(p, ']', len);
		unsigned char addr[16];
		char	   *inside;

		if (close == NULL)
			return "has an unterminated [IPv6] address";
		inside = pnstrdup(p + 1, close - p - 1);
		if (inet_pton(AF_INET6, inside, addr) != 1)
			return "has an invalid [IPv6] address";
		rest = close + 1;
	}
	else
	{
		const char *colon = memchr(p, ':', len);

		problem = ts_host_problem(p, colon ? colon - p : len, false);
		if (problem)
			return psprintf("has a host that %s", problem);
		rest = colon ? colon : p + len;
	}
	*hostlen = rest - p;
	if (rest < p + len)
	{
		int			port = 0;
		int			digits = 0;

		if (*rest != ':')
			return "has something after the host that is not :port";
		for (rest++; rest < p + len && *rest >= '0' && *rest <= '9' && digits < 6; rest++, digits++)
			port = port * 10 + (*rest - '0');
		if (rest != p + len || digits == 0 || port < 1 || port > 65535)
			return "has a port that is not a number from 1 to 65535";
	}
	return NULL;
}

/*
 * The part of an http(s) URL both URL checks share: the scheme, at most
 * TS_RECIPIENT_MAX bytes, and the host (and port); sets *rest to what
 * follows the authority (its path, query and fragment).
 */
static const char *
ts_http_authority_problem(const char *s, const char **rest)
{
	const char *p;
	int			len;
	int			hostlen;

	if (pg_strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (pg_strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return "does not start with http:// or https://";
	if (strlen(s) > TS_RECIPIENT_MAX)
		return "is longer than 2048 characters";
	len = strcspn(p, "/?#");
	*rest = p + len;
	return ts_authority_problem(p, len, &hostlen);
}

/*
 * Checks an http(s) URL: the shared part, then a path (and, when query_ok,
 * a query) without spaces, control or non-ASCII characters, characters that
 * must be percent-encoded, or a fragment.
 */
static const char *
ts_http_url_check(const char *s, bool query_ok)
{
	const char *p;
	const char *problem;

	if ((problem = ts_http_authority_problem(s, &p)) != NULL)
		return problem;
	for (; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '#' || (c == '?' && !query_ok))
			return query_ok ? "has a fragment (#)" : "has a query or a fragment (? or #)";
		if (c <= 0x20 || c >= 0x7f || strchr(query_ok ? "\"<>\\^`{|}" : "\"'<>\\^`{|}", c))
			return "has a space, a control or non-ASCII character, or a character that must be percent-encoded";
	}
	return NULL;
}

/*
 * Checks a base URL: http:// or https://, a host (and port), and a path
 * without spaces, control characters, a query or a fragment.
 */
const char *
ts_http_url_problem(const char *s)
{
	return ts_http_url_check(s, false);
}

/*
 * Checks an SMTP server URL, smtp://host[:port] or smtps://host[:port] (a
 * trailing slash allowed); sets *implicit_tls for smtps and *loopback when
 * the host is 127.0.0.1, ::1 or localhost.
 */
const char *
ts_smtp_url_problem(const char *s, bool *implicit_tls, bool *loopback)
{
	const char *p;
	const char *problem;
	int			len;
	int			hostlen = 0;

	if (pg_strncasecmp(s, "smtps://", 8) == 0)
		p = s + 8, *implicit_tls = true;
	else if (pg_strncasecmp(s, "smtp://", 7) == 0)
		p = s + 7, *implicit_tls = false;
	else
		return "does not start with smtp:// or smtps://";
	len = strlen(p);
	if (len > 0 && p[len - 1] == '/')
		len--;
	if (memchr(p, '/', len) || memchr(p, '?', len) || memchr(p, '#', len))
		return "has a path, query or fragment (give smtp://host[:port] only)";
	problem = ts_authority_problem(p, len, &hostlen);
	if (problem)
		return problem;
	*loopback = ts_is_loopback_host(p, hostlen);
	return NULL;
}

/* True if s has a control character (C0 or DEL): CR/LF would end a header. */
bool
ts_has_control_char(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* Checks that s has no control character (no CR/LF injection). */
const char *
ts_control_char_problem(const char *s)
{
	return ts_has_control_char(s) ? "contains a control character (such as CR or LF)" : NULL;
}

/*
 * Checks a URL a webhook posts to: http:// or https://, a host (and port),
 * then a path and query without spaces, control or non-ASCII characters,
 * and no fragment; at most TS_RECIPIENT_MAX bytes.
 */
static const char *
ts_webhook_url_problem(const char *s)
{
	return ts_http_url_check(s, true);
}

/*
 * Asks the dispatcher's address policy about a URL without connecting
 * (ts_destination_check, the code behind troubleshooting_destination_policy):
 * the refusal reason, or NULL when it is allowed, its host name is checked
 * when resolved at send time, or it is no URL at all.
 */
const char *
ts_destination_problem(const char *url)
{
	char	   *reason;

	if (strstr(url, "://") == NULL)
		return NULL;			/* not a URL (a webhook subscription id) */
	if (ts_destination_check(url, false, &reason) != TS_DEST_REFUSED)
		return NULL;
	if (strncmp(reason, "refused: ", 9) == 0)
		reason += 9;
	return psprintf("is refused by the destination policy: %s", reason);
}

/*
 * Errors unless url is an http(s) URL (with a query when query_ok) that,
 * when policy, the destination policy does not refuse: message, then
 * "<lead> <problem>." as the detail, and hint.
 */
void
ts_check_http_url(const char *url, bool query_ok, bool policy, const char *message, const char *lead,
				  const char *hint)
{
	const char *problem = ts_http_url_check(url, query_ok);

	if (problem == NULL && policy)
		problem = ts_destination_problem(url);
	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", message),
				 errdetail("%s %s.", lead, problem),
				 errhint("%s", hint)));
}

/*
 * Errors unless url is a webhook URL (ts_webhook_url_problem) that the
 * destination policy does not refuse; what names it in the message.
 */
void
ts_check_webhook_url(const char *what, const char *url, const char *hint)
{
	ts_check_http_url(url, true, true, psprintf("invalid %s", what), "The URL", hint);
}

/*
 * Checks a recipient as the outbox would take it on channel: 1 to
 * TS_RECIPIENT_MAX bytes without control characters; for email one address,
 * for sms an E.164 number, for webhook a subscription id or a webhook URL;
 * for chat channels a label.  The destination policy is not asked here (it
 * depends on a setting): callers that store URLs ask ts_destination_problem.
 */
const char *
ts_recipient_problem(const char *channel, const char *recipient)
{
	const char *problem;
	size_t		digits;

	if (recipient[0] == '\0')
		return "is empty";
	if (strlen(recipient) > TS_RECIPIENT_MAX)
		return "is longer than 2048 bytes";
	if ((problem = ts_control_char_problem(recipient)) != NULL)
		return problem;
	if (strcmp(channel, "email") == 0)
		return ts_email_problem(recipient);
	if (strcmp(channel, "sms") == 0)
		return ts_e164_problem(recipient);
	if (strcmp(channel, "webhook") == 0)
	{
		digits = strspn(recipient, "0123456789");
		if (digits == strlen(recipient))
			return digits > 18 ? "is not a webhook subscription id (too many digits)" : NULL;
		return ts_webhook_url_problem(recipient);
	}
	if (ts_channel_in_family(channel, TS_CHANNEL_CHAT))
		return NULL;
	return "is for an unknown channel";
}

/* True if a recipient can be quoted in an error: short, no control characters. */
static bool
ts_showable(const char *s)
{
	size_t		len = strlen(s);

	if (len > TS_SHOWABLE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Errors unless recipient suits channel: one e-mail address, or an E.164 number. */
void
ts_check_recipient(const char *channel, const char *recipient)
{
	bool		email = strcmp(channel, "email") == 0;
	const char *problem;

	if (email)
		problem = ts_email_problem(recipient);
	else if (strcmp(channel, "sms") == 0)
		problem = ts_e164_problem(recipient);
	else
		return;
	if (problem == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s for channel %s", email ? "email address" : "phone number", channel),
			 ts_showable(recipient) ?
			 errdetail("The recipient \"%s\" %s.", recipient, problem) :
			 errdetail("The recipient %s.", problem),
			 email ?
			 errhint("Give one address such as name@example.com (at most 254 characters; an internationalised domain in punycode, xn--...).") :
			 errhint("Give the number in E.164 form: + then 8 to 15 digits, country code first, such as +14155550100.")));
}

/* ts_recipient_is_valid(channel, recipient): would enqueueing accept it? */
Datum
ts_recipient_is_valid(PG_FUNCTION_ARGS)
{
	char	   *channel = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *recipient = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_BOOL(ts_recipient_problem(channel, recipient) == NULL);
}
