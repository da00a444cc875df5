/*
 * verdict.c
 *	  What a finished transfer means, for every channel: sent (with the
 *	  provider's message id), pending again after a delay, or failed for
 *	  good.  The rules:
 *	  - a refused destination address always fails; transport errors and an
 *	    over-long answer are retried;
 *	  - HTTP 2xx is sent, except a legacy Teams connector's 200 whose body
 *	    reports throttling (429); 408, 429 and 5xx are retried, other codes
 *	    fail; a webhook answering 410 fails and its subscription is disabled;
 *	  - the message id comes from the provider's answer: Discord and Mailgun
 *	    `id`, SES `MessageId`, Twilio `sid`, SNS's XML <MessageId>, else an
 *	    X-Message-Id header (SendGrid), else the idempotency key;
 *	  - AWS throttling codes are retried even on 400 (SES's sending limits
 *	    after 15 minutes at least), Mailgun's 420 after 15 minutes;
 *	  - SMTP: 4xx replies and connection or TLS trouble are retried; 5xx,
 *	    a refused login and a server without STARTTLS fail;
 *	  - retries use the backoff or the server's own wait, whichever is
 *	    longer, until max_attempts, then fail.
 */
#include "postgres.h"

#include "notify/send/delay.h"
#include "notify/send/verdict.h"

/* What one answer means before attempts are counted. */
typedef enum TsVerdict
{
	TS_SENT,
	TS_RETRY,
	TS_FAIL
} TsVerdict;

/* Where the first marker in s ends, or NULL when s has none. */
static const char *
ts_after(const char *s, const char *marker)
{
	const char *p = strstr(s, marker);

	return p ? p + strlen(marker) : NULL;
}

/* A copy of p up to end when there is an end less than max bytes away, else NULL. */
static char *
ts_span(const char *p, const char *end, int max)
{
	return end && end - p < max ? pnstrdup(p, end - p) : NULL;
}

/* The text of the first XML element <tag>...</tag> in s, or NULL. */
static char *
ts_xml_text(const char *s, const char *tag)
{
	const char *p = ts_after(s, psprintf("<%s>", tag));

	return p ? ts_span(p, strstr(p, "</"), 200) : NULL;
}

/* The string value of "key" in a flat JSON document (a provider's answer), or NULL. */
static char *
ts_answer_member(const char *s, const char *key)
{
	const char *p = ts_after(s, psprintf("\"%s\"", key));

	if (p == NULL)
		return NULL;
	while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t')
		p++;
	if (*p != '"')
		return NULL;
	p++;
	return ts_span(p, strchr(p, '"'), 256);
}

/* True if an AWS error code means throttling (retry even on HTTP 400). */
static bool
ts_aws_throttled(const char *code)
{
	return code && (strstr(code, "Throttl") || strcmp(code, "TooManyRequestsException") == 0 ||
					strcmp(code, "RequestLimitExceeded") == 0 ||
					strcmp(code, "LimitExceededException") == 0 ||
					strcmp(code, "SendingPausedException") == 0);
}

/*
 * What a provider's HTTP answer means: TS_SENT with *provider_id, or a
 * retryable or final failure; *min_delay_ms is a provider's own wait.
 */
static TsVerdict
ts_provider_verdict(const char *provider, long status, const char *body, const char *error_type,
					char **provider_id, int64 *min_delay_ms)
{
	char	   *id = NULL;

	*min_delay_ms = 0;
	if (status >= 200 && status < 300)
	{
		if (strcmp(provider, "mailgun") == 0)
		{
			id = ts_answer_member(body, "id");
			if (id && id[0] == '<' && id[strlen(id) - 1] == '>')
				id = pnstrdup(id + 1, strlen(id) - 2);
		}
		else if (strcmp(provider, "ses") == 0)
			id = ts_answer_member(body, "MessageId");
		else if (strcmp(provider, "twilio") == 0)
			id = ts_answer_member(body, "sid");
		else if (strcmp(provider, "sns") == 0)
			id = ts_xml_text(body, "MessageId");
		if (id)
			*provider_id = id;
		return TS_SENT;
	}
	if (strcmp(provider, "ses") == 0)
	{
		char	   *code = error_type ? pnstrdup(error_type, strcspn(error_type, ":")) : ts_answer_member(body, "code");

		if (ts_aws_throttled(code))
		{
			if (strcmp(code, "LimitExceededException") == 0 || strcmp(code, "SendingPausedException") == 0)
				*min_delay_ms = 15 * 60 * 1000;
			return TS_RETRY;
		}
	}
	if (strcmp(provider, "sns") == 0 && ts_aws_throttled(ts_xml_text(body, "Code")))
		return TS_RETRY;
	if (strcmp(provider, "mailgun") == 0 && status == 420)
	{
		*min_delay_ms = 15 * 60 * 1000;	/* sending limit: retry after the window */
		return TS_RETRY;
	}
	if (status == 408 || status == 429 || status >= 500)
		return TS_RETRY;
	return TS_FAIL;
}

/* What an SMTP transfer's last reply code means: 4xx retry, else fail. */
static TsVerdict
ts_smtp_verdict(long code)
{
	return code >= 400 && code < 500 ? TS_RETRY : TS_FAIL;
}

/* Failed attempt: retry later, or fail for good after max_attempts. */
static TsOutcome
ts_retry_or_fail(const TsAnswer *a, int64 retry_after_ms, const char *error, bool retryable)
{
	if (retryable && a->attempts < a->max_attempts)
	{
		int64		delay = Max(ts_backoff_ms(a->attempts), retry_after_ms);

		return (TsOutcome) {.status = "pending", .error = error, .delay_ms = ts_clamp_delay_ms((double) delay)};
	}
	return (TsOutcome) {.status = "failed", .error = error};
}

/* The transport's own words for a failed transfer. */
static const char *
ts_curl_error(const TsAnswer *a)
{
	return a->errbuf[0] ? a->errbuf : curl_easy_strerror(a->rc);
}

/* What a finished SMTP transfer means: 4xx replies and transport errors retry. */
static TsOutcome
ts_smtp_outcome(const TsAnswer *a)
{
	if (a->rc == CURLE_OK)
		return (TsOutcome) {.status = "sent", .provider_id = a->message_id ? a->message_id : a->own_id};
	if (a->refused)
		return (TsOutcome) {.status = "failed", .error = "destination refused: address not allowed"};
	if (a->status >= 400)
		return ts_retry_or_fail(a, a->retry_after_ms,
								psprintf("SMTP %ld: %s", a->status, ts_curl_error(a)),
								ts_smtp_verdict(a->status) == TS_RETRY && a->rc != CURLE_LOGIN_DENIED);

	/*
	 * no failure reply (none at all, or a 2xx/3xx before a timeout, a reset
	 * or a reply libcurl could not read): connection or TLS trouble,
	 * retried; a server without STARTTLS is final
	 */
	return ts_retry_or_fail(a, a->retry_after_ms, psprintf("transport error: %s", ts_curl_error(a)),
							a->rc != CURLE_USE_SSL_FAILED && a->rc != CURLE_LOGIN_DENIED);
}

/* What an e-mail or SMS provider's HTTP answer means. */
static TsOutcome
ts_provider_outcome(const TsAnswer *a, const char *snippet)
{
	char	   *pid = NULL;
	int64		min_delay = 0;
	TsVerdict	v = ts_provider_verdict(a->provider, a->status, a->body, a->error_type, &pid, &min_delay);

	if (v == TS_SENT)
		return (TsOutcome) {.status = "sent", .provider_id = pid ? pid : a->message_id ? a->message_id : a->key};
	return ts_retry_or_fail(a, Max(a->retry_after_ms, ts_clamp_delay_ms((double) min_delay)),
							a->error_type ? psprintf("HTTP %ld (%s): %s", a->status,
													 pnstrdup(a->error_type, strcspn(a->error_type, ":")), snippet)
							: psprintf("HTTP %ld: %s", a->status, snippet), v == TS_RETRY);
}

/* Decides what a finished transfer means, for every channel. */
TsOutcome
ts_verdict(const TsAnswer *a)
{
	char	   *error;
	char	   *snippet;
	int64		retry_after_ms = a->retry_after_ms;

	if (a->smtp)
		return ts_smtp_outcome(a);
	if (a->rc != CURLE_OK)
	{
		if (a->refused)
			return (TsOutcome) {.status = "failed", .error = "destination refused: address not allowed"};
		if (a->too_long)
			return ts_retry_or_fail(a, retry_after_ms,
									psprintf("transport error: the response body is longer than %d bytes",
											 TS_RESPONSE_MAX), true);
		return ts_retry_or_fail(a, retry_after_ms, psprintf("transport error: %s", ts_curl_error(a)), true);
	}
	snippet = pnstrdup(a->body, Min(a->body_len, 200));

	if (a->provider)
		return ts_provider_outcome(a, snippet);
	if (a->status >= 200 && a->status < 300)
	{
		char	   *pid;

		/* legacy Teams connectors report throttling inside a 200 */
		if (strcmp(a->channel, "teams") == 0 && a->body_len > 0 &&
			strcmp(a->body, "1") != 0 && strstr(a->body, "429"))
			return ts_retry_or_fail(a, retry_after_ms, psprintf("HTTP %ld: %s", a->status, snippet), true);
		/* Discord answers with the message id; Slack, Teams and webhooks give none */
		pid = strcmp(a->channel, "discord") == 0 ? ts_answer_member(a->body, "id") : (char *) a->message_id;
		return (TsOutcome) {.status = "sent", .provider_id = pid ? pid : a->key};
	}
	error = psprintf("HTTP %ld: %s", a->status, snippet);
	if (strcmp(a->channel, "discord") == 0 && a->status == 429)
		retry_after_ms = Max(retry_after_ms, ts_discord_retry_after_ms(a->body));
	if (strcmp(a->channel, "webhook") == 0 && a->status == 410)
		return (TsOutcome) {.status = "failed", .error = error, .disable_webhook = a->webhook_id};
	return ts_retry_or_fail(a, retry_after_ms, error,
							a->status == 408 || a->status == 429 || a->status >= 500);
}
