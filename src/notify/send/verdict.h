/*
 * verdict.h
 *	  What a finished transfer means: the answer, and the outcome decided.
 */
#ifndef TS_VERDICT_H
#define TS_VERDICT_H

#include "postgres.h"
#include "notify/send/outcome.h"

#include <curl/curl.h>

/* A longer response body aborts the transfer. */
#define TS_RESPONSE_MAX (1024 * 1024)

/* What came back from one transfer, and what the row allows. */
typedef struct TsAnswer
{
	const char *channel;
	const char *provider;		/* email and sms: the provider, else NULL */
	bool		smtp;			/* an SMTP transfer */
	CURLcode	rc;				/* libcurl's result */
	const char *errbuf;			/* libcurl's error text ("" when none) */
	bool		refused;		/* the address policy refused the connection */
	bool		too_long;		/* the body passed TS_RESPONSE_MAX */
	long		status;			/* HTTP status or SMTP reply code */
	const char *body;			/* the start of the body (NUL-terminated) */
	int			body_len;
	const char *message_id;		/* from a response header, or SMTP's "queued as" */
	const char *error_type;		/* AWS: x-amzn-ErrorType */
	const char *own_id;			/* SMTP: our Message-ID */
	const char *key;			/* the idempotency key */
	int64		retry_after_ms; /* the server's Retry-After */
	int			attempts;
	int			max_attempts;
	int64		webhook_id;
} TsAnswer;

extern TsOutcome ts_verdict(const TsAnswer *answer);

#endif							/* TS_VERDICT_H */
