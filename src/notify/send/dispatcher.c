/*
 * dispatcher.c
 *	  The dispatcher background worker: claims due notifications with a
 *	  lease in a short transaction (claim.c), builds each request
 *	  (notify/channels), sends them over one libcurl multi handle (connection
 *	  reuse, global and per-host caps, refilling as transfers finish, the
 *	  hardening of net/curl.c), hands each finished transfer to verdict.c and
 *	  queues the outcome (outcome.c records them in batched short
 *	  transactions).  No transaction is open while the network is used.  A row whose request
 *	  cannot be built is failed (quarantined), never retried in a loop.
 *	  Rows left 'sending' by a crash are sent again after restart, with the
 *	  same idempotency key / webhook id.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "citus/node.h"
#include "worker/maintenance.h"
#include "notify/send/claim.h"
#include "notify/send/outcome.h"
#include "notify/send/settings.h"
#include "notify/send/verdict.h"
#include "notify/send/delay.h"
#include "notify/channels/request.h"
#include "notify/send/wake.h"
#include "net/curl.h"
#include "net/policy.h"
#include "worker/registry.h"
#include "worker/worker.h"

#include <curl/curl.h>

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

/* One transfer in flight. */
typedef struct TsTransfer
{
	MemoryContext cxt;
	int64		id;
	char	   *session_id;		/* with id, the row's key */
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

/* The libcurl options of an SMTP transfer: envelope, TLS, login, upload. */
static void
ts_smtp_options(TsTransfer *t)
{
	t->rcpt = curl_slist_append(NULL, t->req.mail_rcpt);
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
	t->session_id = pstrdup(n->session_id ? n->session_id : "");
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
		ts_outcome(t->id, t->session_id, &(TsOutcome) {.status = "failed", .error = error});
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
			ts_outcome(t->id, t->session_id, &(TsOutcome) {.status = "pending", .delay_ms = wait, .undo_attempt = 1});	/* rate limit: later */
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
	ts_net_harden(t->easy, t->req.smtp, (long) ts_connect_timeout, (long) ts_request_timeout, &t->refused);
	ts_net_check_reused(t->easy, &t->refused);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, ts_write_cb);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, ts_header_cb);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	if (curl_multi_add_handle(ts_multi, t->easy) != CURLM_OK)
	{
		ts_outcome(t->id, t->session_id, &(TsOutcome) {.status = "pending", .error = "could not start the transfer",
				   .delay_ms = ts_backoff_ms(1), .undo_attempt = 1});
		ts_transfer_free(t);
		return true;
	}
	MemoryContextSetParent(cxt, TopMemoryContext);	/* in flight: lives until done */
	ts_in_flight++;
	return true;
}

/* Hands a finished transfer to the verdict and queues the outcome. */
static void
ts_finish_transfer(TsTransfer *t, CURLcode rc)
{
	long		status = 0;
	TsAnswer	a = {
		.channel = t->channel,
		.provider = t->provider,
		.smtp = t->req.smtp,
		.rc = rc,
		.errbuf = t->errbuf,
		.refused = t->refused,
		.too_long = t->too_long,
		.body = t->response.data,
		.body_len = t->response.len,
		.message_id = t->message_id,
		.error_type = t->error_type,
		.own_id = t->req.own_id,
		.key = t->key,
		.retry_after_ms = t->retry_after_ms,
		.attempts = t->attempts,
		.max_attempts = t->max_attempts,
		.webhook_id = t->webhook_id,
	};
	TsOutcome	o;

	ts_in_flight--;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	a.status = status;
	o = ts_verdict(&a);
	ts_outcome(t->id, t->session_id, &o);
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
			ts_outcome(r->n.id, r->n.session_id, &(TsOutcome) {.status = "failed",
					   .error = psprintf("could not build the request: %s", e->message)});
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

/* On a Citus worker node the dispatcher idles: the coordinator sends. */
static bool ts_dispatcher_idle = false;

/*
 * True while the extension is installed in this database (checked each
 * naptime); notes whether this node is a Citus worker (ts_dispatcher_idle).
 */
static bool
ts_dispatcher_installed(void)
{
	bool		installed;
	bool		idle = false;

	installed = OidIsValid(ts_worker_begin());
	if (installed)
		idle = ts_citus_role() == TS_CITUS_WORKER;
	ts_worker_end();
	if (idle && !ts_dispatcher_idle)
		elog(LOG, "troubleshooting dispatcher idles: this node is a Citus worker");
	ts_dispatcher_idle = idle;
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
		if ((woken || tick || recover_all || more_due) && !ts_dispatcher_idle &&
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
