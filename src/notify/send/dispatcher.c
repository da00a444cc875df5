/*
 * dispatcher.c
 *	  The dispatcher background worker: claims due notifications with a
 *	  lease in a short transaction (send/claim.c), sends them over one libcurl multi handle
 *	  (connection reuse, global and per-host caps, refilling as transfers
 *	  finish), and decides each outcome (outcome.c records them in batched
 *	  short transactions).  No
 *	  transaction is open while the network is used.  A row whose request
 *	  cannot be built is failed (quarantined), never retried in a loop.
 *	  Rows left 'sending' by a crash are sent again after restart, with the
 *	  same idempotency key / webhook id.
 */
#include "postgres.h"

#include "compat.h"
#include "extschema.h"
#include "maintenance.h"
#include "notify/send/claim.h"
#include "notify/send/dispatcher.h"
#include "notify/send/outcome.h"
#include "notify/channels/request.h"
#include "notify/send/wake.h"
#include "net/policy.h"
#include "worker/registry.h"
#include "worker/worker.h"

#include <curl/curl.h>
#include <arpa/inet.h>
#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void ts_dispatcher_main(Datum arg);

#define TS_RESPONSE_CAP 65536
#define TS_RESPONSE_MAX (1024 * 1024)	/* a longer answer aborts the transfer */

int			ts_dispatcher_concurrency = 64;
int			ts_dispatcher_host_concurrency = 16;
int			ts_connect_timeout = 5000;
int			ts_request_timeout = 30000;
int			ts_retry_base_delay = 1000;
int			ts_retry_max_delay = 3600000;
int			ts_slack_min_interval = 1000;
int			ts_dispatcher_batch_size = 500;

/* One transfer in flight. */
typedef struct TsTransfer
{
	MemoryContext cxt;
	int64		id;
	int64		webhook_id;
	int			attempts;
	int			max_attempts;
	char	   *channel;
	CURL	   *easy;
	struct curl_slist *headers;
	struct curl_slist *rcpt;	/* SMTP envelope recipients */
	TsRequest	req;
	StringInfoData response;
	int64		retry_after_ms;
	size_t		response_total;	/* body bytes received, kept or not */
	bool		too_long;		/* the body passed TS_RESPONSE_MAX */
	char	   *message_id;		/* from a response header, or SMTP's "queued as" */
	char	   *error_type;		/* AWS: x-amzn-ErrorType */
	char	   *provider;		/* email and sms */
	size_t		upload_off;		/* SMTP: bytes of the message handed to libcurl */
	char	   *key;			/* idempotency key: the id when a provider gives none */
	bool		refused;		/* the address policy refused the connection */
	uint64		host;			/* hash of the destination's host name */
	bool		reserved;		/* holds a server-wide transfer slot */
	bool		host_tracked;	/* ... counted for its host too */
	char		errbuf[CURL_ERROR_SIZE];
} TsTransfer;

static CURLM *ts_multi = NULL;
static HTAB *ts_rate = NULL;	/* Slack URL -> next allowed send */
static int	ts_in_flight = 0;


/* Defines the dispatcher's settings. */
void
ts_dispatcher_define_gucs(void)
{
	DefineCustomIntVariable("troubleshooting.dispatcher_concurrency",
							"Transfers the dispatcher keeps in flight at most.", NULL,
							&ts_dispatcher_concurrency, 64, 1, 10000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.dispatcher_host_concurrency",
							"Transfers in flight to one host at most.", NULL,
							&ts_dispatcher_host_concurrency, 16, 1, 10000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.connect_timeout",
							"Time allowed to connect to a destination.", NULL,
							&ts_connect_timeout, 5000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.request_timeout",
							"Time allowed for a whole request.", NULL,
							&ts_request_timeout, 30000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.retry_base_delay",
							"First retry delay; it doubles per attempt, with jitter.", NULL,
							&ts_retry_base_delay, 1000, 1, 3600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.retry_max_delay",
							"Longest retry delay.", NULL,
							&ts_retry_max_delay, 3600000, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.slack_min_interval",
							"Shortest time between two messages to one Slack webhook.", NULL,
							&ts_slack_min_interval, 1000, 0, 600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("troubleshooting.dispatcher_batch_size",
							"Rows the dispatcher claims in one transaction at most.", NULL,
							&ts_dispatcher_batch_size, 500, 1, 100000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	ts_urlpolicy_define_gucs();
}

/* Exponential backoff with jitter for the given attempt number. */
static int64
ts_backoff_ms(int attempts)
{
	double		d = (double) ts_retry_base_delay * pow(2.0, Max(attempts - 1, 0));

	return ts_clamp_delay_ms(Min(d, (double) ts_retry_max_delay) * (0.5 + 0.5 * ts_random_double()));
}

/* Failed attempt: retry later, or fail for good after max_attempts. */
static void
ts_retry_or_fail(TsTransfer *t, const char *error, bool retryable)
{
	if (retryable && t->attempts < t->max_attempts)
		ts_outcome(t->id, "pending", error, NULL,
				   ts_clamp_delay_ms((double) Max(ts_backoff_ms(t->attempts), t->retry_after_ms)), 0, 0);
	else
		ts_outcome(t->id, "failed", error, NULL, 0, 0, 0);
}

/* libcurl: keeps the start of the response body (up to the cap). */
static size_t
ts_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	TsTransfer *t = arg;
	size_t		n = size * nmemb;

	t->response_total += n;
	if (t->response_total > TS_RESPONSE_MAX)
	{
		t->too_long = true;
		return 0;				/* aborts the transfer: an endless or huge answer */
	}
	if (t->response.len < TS_RESPONSE_CAP)
		appendBinaryStringInfo(&t->response, ptr, Min(n, (size_t) (TS_RESPONSE_CAP - t->response.len)));
	return n;					/* the rest is read and dropped */
}

/* A trimmed copy of a header value, in the transfer's context. */
static char *
ts_header_text(TsTransfer *t, const char *v, size_t len)
{
	MemoryContext old = MemoryContextSwitchTo(t->cxt);
	char	   *out;

	while (len > 0 && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	out = pnstrdup(v, len);
	MemoryContextSwitchTo(old);
	return out;
}

/* libcurl: hands the next piece of an SMTP message to upload. */
static size_t
ts_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	TsTransfer *t = arg;
	size_t		n = Min(size * nitems, t->req.body_len - t->upload_off);

	memcpy(buf, t->req.body + t->upload_off, n);
	t->upload_off += n;
	return n;
}

/*
 * libcurl: picks Retry-After, SendGrid's X-Message-Id, AWS's error type and
 * SMTP's queue id out of the response headers (SMTP: the server's replies).
 * libcurl's buffer is not NUL-terminated: each line is copied first, and
 * lines of 300 bytes or more carry nothing we read.
 */
static size_t
ts_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	TsTransfer *t = arg;
	size_t		n = size * nitems;
	char		line[300];

	if (n >= sizeof(line))
		return n;
	memcpy(line, buf, n);
	line[n] = '\0';
	if (n > 12 && pg_strncasecmp(line, "retry-after:", 12) == 0)
		t->retry_after_ms = Max(t->retry_after_ms, ts_retry_after_ms(line + 12));
	else if (n > 13 && pg_strncasecmp(line, "x-message-id:", 13) == 0)
		t->message_id = ts_header_text(t, line + 13, n - 13);
	else if (n > 17 && pg_strncasecmp(line, "x-amzn-errortype:", 17) == 0)
		t->error_type = ts_header_text(t, line + 17, n - 17);
	else if (t->req.smtp && n > 4 && strncmp(line, "250", 3) == 0)
	{
		/* the reply to the end of data: "250 2.0.0 Ok: queued as 4XyZ" */
		const char *q = strstr(line, "queued as ");

		if (q)
			t->message_id = ts_header_text(t, q + 10, n - (q + 10 - line));
	}
	return n;
}

/* libcurl: refuses to open a socket to an address the policy forbids. */
static curl_socket_t
ts_opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	TsTransfer *t = arg;

	if (!ts_address_allowed(&addr->addr))
	{
		t->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

#if LIBCURL_VERSION_NUM >= 0x075000
/*
 * libcurl: checks the address again just before each request, since a
 * reused connection never passes through the open-socket callback.
 */
static int
ts_prereq_cb(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	TsTransfer *t = arg;
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, primary_ip, &((struct sockaddr_in *) &ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, primary_ip, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	if (!ts_address_allowed((struct sockaddr *) &ss))
	{
		t->refused = true;
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}
#endif

/* Memory context reset callback: releases what libcurl holds for a transfer. */
static void
ts_transfer_release(void *arg)
{
	TsTransfer *t = arg;

	if (t->reserved)
	{
		ts_outbound_release(t->host, t->host_tracked);
		t->reserved = false;
	}
	if (t->easy)
	{
		curl_multi_remove_handle(ts_multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	if (t->headers)
	{
		curl_slist_free_all(t->headers);
		t->headers = NULL;
	}
	if (t->rcpt)
	{
		curl_slist_free_all(t->rcpt);
		t->rcpt = NULL;
	}
}

/* Frees a transfer; its context's callback releases the libcurl handles. */
static void
ts_transfer_free(TsTransfer *t)
{
	MemoryContextDelete(t->cxt);
}

/* Returns the delay a Slack URL must wait before its next message (0 = none). */
static int64
ts_slack_delay_ms(const char *url)
{
	char		key[256];
	bool		found;
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz *next;

	if (ts_slack_min_interval <= 0)
		return 0;
	strlcpy(key, url, sizeof(key));
	next = hash_search(ts_rate, key, HASH_ENTER, &found);
	next = (TimestampTz *) ((char *) next + sizeof(key));
	if (found && *next > now)
		return (*next - now) / 1000 + 1;
	*next = now + (TimestampTz) ts_slack_min_interval * 1000;
	return 0;
}

/* True for smtp:// and smtps:// URLs. */
static bool
ts_smtp_scheme_allowed(const char *url)
{
	return pg_strncasecmp(url, "smtp://", 7) == 0 || pg_strncasecmp(url, "smtps://", 8) == 0;
}

/* The libcurl options of an SMTP transfer: envelope, TLS, login, upload. */
static void
ts_smtp_options(TsTransfer *t)
{
	t->rcpt = curl_slist_append(NULL, t->req.mail_rcpt);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS, (long) (CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(t->easy, CURLOPT_MAIL_FROM, t->req.mail_from);
	curl_easy_setopt(t->easy, CURLOPT_MAIL_RCPT, t->rcpt);
	/* STARTTLS or implicit TLS, never a silent fall-back to plain text */
	curl_easy_setopt(t->easy, CURLOPT_USE_SSL, (long) (t->req.use_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
	if (t->req.ca_file)
		curl_easy_setopt(t->easy, CURLOPT_CAINFO, t->req.ca_file);
	if (t->req.username)
	{
		curl_easy_setopt(t->easy, CURLOPT_USERNAME, t->req.username);
		curl_easy_setopt(t->easy, CURLOPT_PASSWORD, t->req.password ? t->req.password : "");
	}
	curl_easy_setopt(t->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, ts_read_cb);
	curl_easy_setopt(t->easy, CURLOPT_READDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t) t->req.body_len);
	/*
	 * one connection per message: a server that answered out of step (a
	 * malformed or timed-out reply) must not hand its confusion to the next
	 */
	curl_easy_setopt(t->easy, CURLOPT_FORBID_REUSE, 1L);
}

/* A hash of a URL's host name (of the whole URL when it has none). */
static uint64
ts_url_host(const char *url)
{
	CURLU	   *u = curl_url();
	char	   *host = NULL;
	uint64		h;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host != NULL)
		h = hash_bytes_extended((const unsigned char *) host, strlen(host), 0);
	else
		h = hash_bytes_extended((const unsigned char *) url, strlen(url), 0);
	curl_free(host);
	curl_url_cleanup(u);
	return h;
}

/*
 * Starts sending one claimed row; rows that cannot be sent get their
 * outcome.  False when no server-wide transfer slot is free for its host:
 * the row stays ready and nothing is recorded.
 */
static bool
ts_start_transfer(TsNotification *n, int attempts, int max_attempts, int64 webhook_id,
				  bool webhook_active)
{
	/*
	 * The transfer's context hangs under the loop's context until it is in
	 * flight: an error before that frees it, and with it the curl handles.
	 */
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "troubleshooting transfer",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	TsTransfer *t = palloc0(sizeof(TsTransfer));
	MemoryContextCallback *cb = palloc0(sizeof(MemoryContextCallback));
	char	   *error = NULL;
	ListCell   *lc;

	t->cxt = cxt;
	cb->func = ts_transfer_release;
	cb->arg = t;
	MemoryContextRegisterResetCallback(cxt, cb);
	t->id = n->id;
	t->attempts = attempts;
	t->max_attempts = max_attempts;
	t->webhook_id = webhook_id;
	t->channel = pstrdup(n->channel);
	t->provider = n->provider ? pstrdup(n->provider) : NULL;
	t->key = pstrdup(n->idempotency_key);
	initStringInfo(&t->response);

	if (attempts > max_attempts)
		error = "gave up: claimed more times than max_attempts (the dispatcher stopped while sending it)";
	else if (strcmp(n->channel, "webhook") == 0 && webhook_id != 0 && !webhook_active)
		error = "the webhook subscription is disabled";
	else if (!ts_build_request(n, GetCurrentTimestamp(), &t->req, &error))
		;
	else if (t->req.smtp ? !ts_smtp_scheme_allowed(t->req.url) : !ts_url_scheme_allowed(t->req.url))
		error = t->req.smtp ? "destination refused: only smtp and smtps URLs"
			: "destination refused: only http and https URLs";
	MemoryContextSwitchTo(old);
	if (error)
	{
		ts_outcome(t->id, "failed", error, NULL, 0, 0, 0);
		MemoryContextDelete(cxt);
		return true;
	}
	t->host = ts_url_host(t->req.url);
	if (!ts_outbound_reserve(t->host, ts_dispatcher_concurrency, ts_dispatcher_host_concurrency,
							 &t->host_tracked))
	{
		MemoryContextDelete(cxt);
		return false;
	}
	t->reserved = true;
	if (strcmp(n->channel, "slack") == 0)
	{
		int64		wait = ts_slack_delay_ms(t->req.url);

		if (wait > 0)
		{
			ts_outcome(t->id, "pending", NULL, NULL, wait, 1, 0);	/* rate limit: later */
			MemoryContextDelete(cxt);
			return true;
		}
	}

	t->easy = curl_easy_init();
	if (t->easy == NULL)
		elog(ERROR, "curl_easy_init failed");
	foreach(lc, t->req.headers)
		t->headers = curl_slist_append(t->headers, (char *) lfirst(lc));
	/* no "Expect: 100-continue" round trip; libcurl would sign the empty header for SigV4 */
	if (t->req.aws_sigv4 == NULL)
		t->headers = curl_slist_append(t->headers, "Expect:");
	curl_easy_setopt(t->easy, CURLOPT_URL, t->req.url);
	if (t->req.smtp)
		ts_smtp_options(t);
	else
	{
		curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
		curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->req.body);
		curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) t->req.body_len);
#if LIBCURL_VERSION_NUM >= 0x075500
		curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
		curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
		if (t->req.username)
		{
			curl_easy_setopt(t->easy, CURLOPT_USERNAME, t->req.username);
			curl_easy_setopt(t->easy, CURLOPT_PASSWORD, t->req.password ? t->req.password : "");
			if (t->req.aws_sigv4)
#if LIBCURL_VERSION_NUM >= 0x074b00
				curl_easy_setopt(t->easy, CURLOPT_AWS_SIGV4, t->req.aws_sigv4);
#else
				elog(ERROR, "SigV4 needs libcurl 7.75 or later");	/* ts_build_provider_request refuses first */
#endif
			else
				curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
		}
	}
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(t->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long) ts_connect_timeout);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long) ts_request_timeout);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, ts_write_cb);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, ts_header_cb);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION, ts_opensocket_cb);
	curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, t);
#if LIBCURL_VERSION_NUM >= 0x075000
	curl_easy_setopt(t->easy, CURLOPT_PREREQFUNCTION, ts_prereq_cb);
	curl_easy_setopt(t->easy, CURLOPT_PREREQDATA, t);
#else
	curl_easy_setopt(t->easy, CURLOPT_FORBID_REUSE, 1L);	/* every request opens (and checks) a socket */
#endif
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	if (curl_multi_add_handle(ts_multi, t->easy) != CURLM_OK)
	{
		ts_outcome(t->id, "pending", "could not start the transfer", NULL, ts_backoff_ms(1), 1, 0);
		ts_transfer_free(t);
		return true;
	}
	MemoryContextSetParent(cxt, TopMemoryContext);	/* in flight: lives until done */
	ts_in_flight++;
	return true;
}

/* What a finished SMTP transfer means: 4xx replies and transport errors retry. */
static void
ts_finish_smtp(TsTransfer *t, CURLcode rc)
{
	long		code = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK)
	{
		ts_outcome(t->id, "sent", NULL, t->message_id ? t->message_id : t->req.own_id, 0, 0, 0);
		return;
	}
	if (t->refused)
	{
		ts_outcome(t->id, "failed", "destination refused: address not allowed", NULL, 0, 0, 0);
		return;
	}
	if (code >= 400)
		ts_retry_or_fail(t, psprintf("SMTP %ld: %s", code, t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc)),
						 ts_smtp_verdict(code) == TS_RETRY && rc != CURLE_LOGIN_DENIED);
	else
	{
		/*
		 * no failure reply (none at all, or a 2xx/3xx before a timeout, a
		 * reset or a reply libcurl could not read): connection or TLS
		 * trouble, retried; a server without STARTTLS is final
		 */
		ts_retry_or_fail(t, psprintf("transport error: %s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc)),
						 rc != CURLE_USE_SSL_FAILED && rc != CURLE_LOGIN_DENIED);
	}
}

/* Decides what a finished transfer means (providers.md, section 0.1 and per channel). */
static void
ts_finish_transfer(TsTransfer *t, CURLcode rc)
{
	long		status = 0;
	char	   *error;
	char	   *snippet;

	ts_in_flight--;
	if (t->req.smtp)
	{
		ts_finish_smtp(t, rc);
		return;
	}
	if (rc != CURLE_OK)
	{
		if (t->refused)
			ts_outcome(t->id, "failed", "destination refused: address not allowed", NULL, 0, 0, 0);
		else if (t->too_long)
			ts_retry_or_fail(t, psprintf("transport error: the response body is longer than %d bytes",
										 TS_RESPONSE_MAX), true);
		else
			ts_retry_or_fail(t, psprintf("transport error: %s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc)),
							 true);
		return;
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	snippet = pnstrdup(t->response.data, Min(t->response.len, 200));

	if (t->provider)
	{
		char	   *pid = NULL;
		int64		min_delay = 0;
		TsVerdict	v = ts_provider_verdict(t->provider, status, t->response.data, t->error_type,
											&pid, &min_delay);

		if (v == TS_SENT)
			ts_outcome(t->id, "sent", NULL, pid ? pid : t->message_id ? t->message_id : t->key, 0, 0, 0);
		else
		{
			t->retry_after_ms = Max(t->retry_after_ms, ts_clamp_delay_ms((double) min_delay));
			ts_retry_or_fail(t, t->error_type ? psprintf("HTTP %ld (%s): %s", status,
														  pnstrdup(t->error_type, strcspn(t->error_type, ":")), snippet)
							 : psprintf("HTTP %ld: %s", status, snippet), v == TS_RETRY);
		}
		return;
	}
	if (status >= 200 && status < 300)
	{
		/* legacy Teams connectors report throttling inside a 200 */
		if (strcmp(t->channel, "teams") == 0 && t->response.len > 0 &&
			strcmp(t->response.data, "1") != 0 && strstr(t->response.data, "429"))
		{
			ts_retry_or_fail(t, psprintf("HTTP %ld: %s", status, snippet), true);
			return;
		}
		{
			/* Discord answers with the message id; Slack, Teams and webhooks give none */
			char	   *pid = strcmp(t->channel, "discord") == 0 ? ts_json_string(t->response.data, "id") : t->message_id;

			ts_outcome(t->id, "sent", NULL, pid ? pid : t->key, 0, 0, 0);
		}
		return;
	}
	error = psprintf("HTTP %ld: %s", status, snippet);
	if (strcmp(t->channel, "discord") == 0 && status == 429)
		t->retry_after_ms = Max(t->retry_after_ms, ts_discord_retry_after_ms(t->response.data));
	if (strcmp(t->channel, "webhook") == 0 && status == 410)
	{
		ts_outcome(t->id, "failed", error, NULL, 0, 0, t->webhook_id);
		return;
	}
	ts_retry_or_fail(t, error, status == 408 || status == 429 || status >= 500);
}

/*
 * Starts ready rows while transfer slots are free; failures are
 * quarantined.  A row whose host has no free slot (every database's
 * dispatcher counts) waits for the next round, behind the others.
 */
static void
ts_start_ready(MemoryContext loopcxt)
{
	List	   *volatile waiting = NIL;
	MemoryContext old;

	while (ts_ready != NIL && ts_in_flight < ts_dispatcher_concurrency)
	{
		TsReady    *volatile r = linitial(ts_ready);
		volatile bool started = true;

		ts_ready = list_delete_first(ts_ready);
		PG_TRY();
		{
			started = ts_start_transfer(&r->n, r->attempts, r->max_attempts, r->webhook_id, r->webhook_active);
		}
		PG_CATCH();
		{
			/* quarantine: this row fails, the worker goes on */
			ErrorData  *e;

			MemoryContextSwitchTo(loopcxt);
			e = CopyErrorData();
			FlushErrorState();
			ts_outcome(r->n.id, "failed", psprintf("could not build the request: %s", e->message),
					   NULL, 0, 0, 0);
		}
		PG_END_TRY();
		if (!started)
		{
			old = MemoryContextSwitchTo(ts_ready_cxt);
			waiting = lappend(waiting, r);
			MemoryContextSwitchTo(old);
		}
	}
	if (waiting != NIL)
	{
		old = MemoryContextSwitchTo(ts_ready_cxt);
		ts_ready = list_concat(ts_ready, waiting);
		MemoryContextSwitchTo(old);
	}
	if (ts_ready == NIL)
		MemoryContextReset(ts_ready_cxt);
}

/* Moves finished transfers to outcomes. */
static void
ts_collect_done(void)
{
	CURLMsg    *msg;
	int			left;

	while ((msg = curl_multi_info_read(ts_multi, &left)) != NULL)
	{
		TsTransfer *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
		ts_finish_transfer(t, msg->data.result);
		ts_transfer_free(t);
	}
}

/* True while the extension is installed in this database (checked each naptime). */
static bool
ts_dispatcher_installed(void)
{
	bool		installed;

	ts_worker_begin();
	installed = OidIsValid(ts_extension_schema(true));
	ts_worker_end();
	return installed;
}

/* Entry point of the dispatcher worker: its registry slot is the argument. */
void
ts_dispatcher_main(Datum arg)
{
	HASHCTL		ctl;
	MemoryContext loopcxt;
	volatile bool recover_all = true;
	volatile bool more_due = false;
	volatile TimestampTz last_claim = 0;

	ts_worker_init_signals();
	/* search_path pinned to pg_catalog, pg_temp */
	ts_worker_connect(NULL, ts_registry_worker_attach(DatumGetInt32(arg), TS_WORKER_DISPATCHER));

	/*
	 * The claim must walk the pending index in priority order even when the
	 * statistics have not caught up with a burst of enqueues (a sort of every
	 * pending row per claim makes a drain quadratic): this session's plans
	 * never sort or scan whole tables.
	 */
	SetConfigOption("enable_sort", "off", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		elog(FATAL, "curl_global_init failed");
	ts_multi = curl_multi_init();
	ts_outcomes_init();
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = 256;
	ctl.entrysize = 256 + sizeof(TimestampTz);
	ts_rate = hash_create("troubleshooting slack rate", 64, &ctl, HASH_ELEM | HASH_STRINGS);

	ts_dispatcher_attach();
	ts_worker_begin();
	elog(LOG, "troubleshooting dispatcher started in database \"%s\"", get_database_name(MyDatabaseId));
	ts_worker_end();
	loopcxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting dispatcher loop",
									ALLOCSET_DEFAULT_SIZES);

	ts_ready_cxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting ready rows",
										 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		int			running = 0;
		bool		woken = MyLatch->is_set;
		bool		tick = TimestampDifferenceExceeds(last_claim, GetCurrentTimestamp(),
													  ts_maintenance_naptime);

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(loopcxt);
		MemoryContextSwitchTo(loopcxt);
		(void) ts_worker_reload_pending();
		if (tick && !ts_dispatcher_installed())
		{
			/* DROP EXTENSION: nothing left to send here */
			elog(LOG, "troubleshooting dispatcher exits: the extension was dropped");
			proc_exit(0);
		}
		MemoryContextSwitchTo(loopcxt);
		curl_multi_setopt(ts_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) ts_dispatcher_concurrency);
		curl_multi_setopt(ts_multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) ts_dispatcher_host_concurrency);

		/* refill the ready list when it runs low (and there may be work) */
		if ((woken || tick || recover_all || more_due) &&
			list_length(ts_ready) < ts_dispatcher_concurrency)
		{
			int			want = ts_dispatcher_batch_size;

			more_due = false;
			PG_TRY();
			{
				more_due = (ts_claim(want, recover_all) >= want);
				recover_all = false;
			}
			PG_CATCH();
			{
				EmitErrorReport();
				FlushErrorState();
				AbortCurrentTransaction();
			}
			PG_END_TRY();
			MemoryContextSwitchTo(loopcxt);	/* a commit leaves us in TopMemoryContext */
			last_claim = GetCurrentTimestamp();
		}
		ts_start_ready(loopcxt);

		curl_multi_perform(ts_multi, &running);
		ts_collect_done();

		/* outcomes go in batches: many at once, or a few after a short wait */
		if (ts_outcomes_count() > 0 &&
			(ts_outcomes_count() >= 256 || ts_in_flight == 0 ||
			 TimestampDifferenceExceeds(ts_outcomes_oldest(), GetCurrentTimestamp(), 20)))
		{
			PG_TRY();
			{
				ts_record_outcomes();
			}
			PG_CATCH();
			{
				/* the rows stay 'sending' until their lease expires; keep going */
				EmitErrorReport();
				FlushErrorState();
				AbortCurrentTransaction();
				ts_outcomes_discard();
			}
			PG_END_TRY();
			MemoryContextSwitchTo(loopcxt);
		}

		if (ts_in_flight > 0 || ts_ready != NIL || ts_outcomes_count() > 0 || more_due)
			curl_multi_poll(ts_multi, NULL, 0, ts_in_flight > 0 || ts_ready != NIL ? 5 : 0, NULL);
		else if (!MyLatch->is_set)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 ts_maintenance_naptime, PG_WAIT_EXTENSION);
	}
}
