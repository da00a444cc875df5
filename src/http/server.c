/*
 * server.c
 *	  The HTTP background worker: its registration, the libmicrohttpd
 *	  daemons (one per address, each without threads of its
 *	  own, each with its own epoll set) and the worker's wait loop, which
 *	  waits on the daemons' epoll descriptors and its latch with one
 *	  long-lived WaitEventSet and then lets libmicrohttpd run on the worker's
 *	  own thread.  Requests are answered from inside that run (router.c),
 *	  so every database access stays on the main thread.  Its settings are
 *	  in settings.c.
 *
 *	  Every request has a bound on its total time (a client trickling bytes
 *	  resets libmicrohttpd's idle timeout, never this one): the worker
 *	  tracks each connection from libmicrohttpd's connection callbacks and
 *	  shuts the socket of one whose request runs past
 *	  troubleshooting.http_request_timeout; libmicrohttpd then reads the end
 *	  of the stream and closes it.
 *
 *	  The listener refuses to start on a non-loopback address without
 *	  troubleshooting.http_token.  A listener that cannot start is logged and
 *	  tried again later (or at the next reload); the worker never exits for it.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "citus/node.h"
#include "compat.h"
#include "http/cache.h"
#include "http/http.h"
#include "http/router.h"
#include "http/settings.h"
#include "worker/worker.h"

#include "lib/ilist.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PGDLLEXPORT void ts_http_main(Datum arg);

#define TS_HTTP_CONNECTION_LIMIT 256	/* connections per address */
#define TS_HTTP_PER_IP_LIMIT 64 /* connections from one client address */
#define TS_HTTP_CONNECTION_TIMEOUT 10	/* seconds without progress */
#define TS_HTTP_MEMORY_LIMIT (64 * 1024)	/* request headers and buffers */
#define TS_HTTP_RETRY_MS 10000	/* a listener that failed is tried again */
#define TS_HTTP_MAX_WAIT_MS 1000

/*
 * One open connection and when its current request began: at accept, then
 * at the end of each request (a kept-alive connection's next one).  malloc'd
 * (libmicrohttpd's callbacks must not raise errors), in ts_http_conns.
 */
typedef struct TsHttpConn
{
	dlist_node	node;
	struct MHD_Connection *conn;
	TimestampTz started;
	bool		cut;			/* its socket is shut down, closing */
} TsHttpConn;

static dlist_head ts_http_conns = DLIST_STATIC_INIT(ts_http_conns);

static struct MHD_Daemon *ts_daemons[TS_HTTP_MAX_ADDRESSES];
static int	ts_ndaemons = 0;
static char ts_mhd_message[256];	/* libmicrohttpd's last log line */

/*
 * The latch, postmaster death and each daemon's epoll descriptor; built for
 * the daemons running (NULL: to be built), freed when they stop.  A worker
 * that fails exits, which closes it.
 */
static WaitEventSet *ts_wait_set = NULL;

/*
 * Registers the HTTP worker when troubleshooting.http_port is set.  It
 * starts as soon as the server accepts read-only connections, so a hot
 * standby serves the read endpoints too.
 */
void
ts_http_register(void)
{
	if (ts_http_port > 0)
		ts_worker_register_static("ts_http_main", "troubleshooting http", BgWorkerStart_ConsistentState, 5);
}

/* libmicrohttpd's log: kept for the next error message, and logged at DEBUG1. */
static void
ts_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	size_t		len;

	vsnprintf(ts_mhd_message, sizeof(ts_mhd_message), fmt, ap);
	len = strlen(ts_mhd_message);
	while (len > 0 && (ts_mhd_message[len - 1] == '\n' || ts_mhd_message[len - 1] == '\r'))
		ts_mhd_message[--len] = '\0';
	elog(DEBUG1, "libmicrohttpd: %s", ts_mhd_message);
}

/* True unless the endpoint would listen beyond loopback without a token. */
static bool
ts_http_policy_ok(void)
{
	TsHttpAddress addrs[TS_HTTP_MAX_ADDRESSES];
	int			n;
	char		bad[64];

	if (ts_http_token != NULL && ts_http_token[0] != '\0')
		return true;
	if (!ts_http_parse_addresses(ts_http_listen_addresses, addrs, &n, bad, sizeof(bad)))
		return false;
	for (int i = 0; i < n; i++)
		if (!addrs[i].loopback)
			return false;
	return true;
}

/* Reports the refusal to listen beyond loopback without a token (as an ERROR). */
static void
ts_http_policy_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("troubleshooting.http_token must be set for the HTTP endpoint to listen on a non-loopback address"),
			 errdetail("troubleshooting.http_listen_addresses is \"%s\"; the HTTP endpoint stays closed.",
					   ts_http_listen_addresses),
			 errhint("Set troubleshooting.http_token and reload, or listen on 127.0.0.1 and ::1 only.")));
}

/* Shuts down the socket of connection c (libmicrohttpd closes it at its next run). */
static void
ts_http_cut(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	if (info != NULL)
		(void) shutdown(info->connect_fd, SHUT_RDWR);
}

/*
 * libmicrohttpd: a connection opened or closed.  Tracks it with the time its
 * request began; one that cannot be tracked is not served.
 */
static void
ts_http_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
						  enum MHD_ConnectionNotificationCode toe)
{
	TsHttpConn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
	{
		c = malloc(sizeof(TsHttpConn));
		*socket_context = c;
		if (c == NULL)
		{
			ts_http_cut(conn);
			return;
		}
		c->conn = conn;
		c->started = GetCurrentTimestamp();
		c->cut = false;
		dlist_push_tail(&ts_http_conns, &c->node);
	}
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && c != NULL)
	{
		dlist_delete(&c->node);
		free(c);
		*socket_context = NULL;
	}
}

/* libmicrohttpd: a request ended; the connection's next one starts its clock now. */
static void
ts_http_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
						  enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (info != NULL && info->socket_context != NULL)
		((TsHttpConn *) info->socket_context)->started = GetCurrentTimestamp();
}

/*
 * Shuts every connection whose request has run past
 * troubleshooting.http_request_timeout; returns the milliseconds until the
 * next one would (or max_wait_ms).
 */
static long
ts_http_cut_late(long max_wait_ms)
{
	TimestampTz now = GetCurrentTimestamp();
	long		next = max_wait_ms;
	dlist_iter	iter;

	dlist_foreach(iter, &ts_http_conns)
	{
		TsHttpConn *c = dlist_container(TsHttpConn, node, iter.cur);
		TimestampTz deadline = TimestampTzPlusMilliseconds(c->started, ts_http_request_timeout);

		if (c->cut)
			continue;
		if (now >= deadline)
		{
			ts_http_cut(c->conn);
			c->cut = true;
			ereport(DEBUG1,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("closed an HTTP connection whose request took longer than troubleshooting.http_request_timeout")));
		}
		else
			next = Min(next, (long) ((deadline - now + 999) / 1000));
	}
	return next;
}

/* Frees the wait set, to be built again for the daemons that run next. */
static void
ts_http_wait_set_free(void)
{
	if (ts_wait_set != NULL)
		FreeWaitEventSet(ts_wait_set);
	ts_wait_set = NULL;
}

/* Stops every daemon (closing its sockets and connections). */
static void
ts_http_stop(void)
{
	ts_http_wait_set_free();
	for (int i = 0; i < ts_ndaemons; i++)
		MHD_stop_daemon(ts_daemons[i]);
	ts_ndaemons = 0;
	/* the connections are gone with their daemons, tracked or not */
	while (!dlist_is_empty(&ts_http_conns))
	{
		dlist_node *n = dlist_pop_head_node(&ts_http_conns);

		free(dlist_container(TsHttpConn, node, n));
	}
}

/*
 * Starts one daemon per listen address.  An address that cannot be bound is
 * logged and skipped; an ERROR when none can be.
 */
static void
ts_http_start(void)
{
	TsHttpAddress addrs[TS_HTTP_MAX_ADDRESSES];
	int			n;
	char		bad[64];

	if (!ts_http_parse_addresses(ts_http_listen_addresses, addrs, &n, bad, sizeof(bad)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid troubleshooting.http_listen_addresses: %s", bad)));
	if (!ts_http_policy_ok())
		ts_http_policy_error();

	for (int i = 0; i < n; i++)
	{
		TsHttpAddress *a = &addrs[i];
		bool		v6 = a->ss.ss_family == AF_INET6;
		struct MHD_Daemon *d;

		if (v6)
			((struct sockaddr_in6 *) &a->ss)->sin6_port = htons((uint16) ts_http_port);
		else
			((struct sockaddr_in *) &a->ss)->sin_port = htons((uint16) ts_http_port);
		ts_mhd_message[0] = '\0';

		/*
		 * No MHD_USE_INTERNAL_POLLING_THREAD: the worker's loop drives it.
		 * MHD_USE_EPOLL: the worker waits on one descriptor per daemon, not
		 * a set rebuilt from every connection's socket each time round.
		 */
		d = MHD_start_daemon(MHD_USE_ERROR_LOG | MHD_USE_EPOLL | (v6 ? MHD_USE_IPv6 : 0),
							 (uint16_t) ts_http_port, NULL, NULL, ts_http_handler, NULL,
							 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &a->ss,
							 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) TS_HTTP_CONNECTION_LIMIT,
							 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) TS_HTTP_PER_IP_LIMIT,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) TS_HTTP_CONNECTION_TIMEOUT,
							 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) TS_HTTP_MEMORY_LIMIT,
							 MHD_OPTION_EXTERNAL_LOGGER, ts_http_mhd_log, NULL,
							 MHD_OPTION_NOTIFY_CONNECTION, ts_http_notify_connection, NULL,
							 MHD_OPTION_NOTIFY_COMPLETED, ts_http_request_completed, NULL,
							 MHD_OPTION_END);
		if (d == NULL)
		{
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("could not listen for HTTP on %s port %d", a->text, ts_http_port),
					 ts_mhd_message[0] ? errdetail("%s", ts_mhd_message) : 0));
			continue;
		}
		ts_daemons[ts_ndaemons++] = d;
		ts_http_wait_set_free();	/* to be built with this daemon's descriptor */
		ereport(LOG,
				(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
				 errmsg("troubleshooting HTTP endpoint listening on %s port %d", a->text, ts_http_port)));
	}
	if (ts_ndaemons == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not listen for HTTP on any of \"%s\" port %d",
						ts_http_listen_addresses, ts_http_port),
				 errhint("The worker tries again in %d seconds.", TS_HTTP_RETRY_MS / 1000)));
}

/* Builds the wait set: the latch, postmaster death and each daemon's epoll descriptor. */
static void
ts_http_wait_set_build(void)
{
	WaitEventSet *set = ts_create_wait_event_set(TopMemoryContext, ts_ndaemons + 2);

	ts_wait_set = set;			/* freed by ts_http_wait_set_free, even if half built */
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < ts_ndaemons; i++)
	{
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(ts_daemons[i], MHD_DAEMON_INFO_EPOLL_FD);

		if (info == NULL)
			elog(ERROR, "libmicrohttpd has no epoll descriptor for a daemon");
		AddWaitEventToSet(set, WL_SOCKET_READABLE, info->epoll_fd, NULL, NULL);
	}
}

/*
 * Waits for the latch, postmaster death, anything ready on a daemon's
 * connections or listening socket, the earliest libmicrohttpd timeout
 * (0 while a daemon has work left from its last run) or the next request
 * to run out of time.
 */
static void
ts_http_poll(long max_wait_ms)
{
	WaitEvent	events[TS_HTTP_MAX_ADDRESSES + 2];
	long		timeout = ts_http_cut_late(max_wait_ms);
	int			nready;

	for (int i = 0; i < ts_ndaemons; i++)
	{
		MHD_UNSIGNED_LONG_LONG t;

		if (MHD_get_timeout(ts_daemons[i], &t) == MHD_YES)
			timeout = Min(timeout, (long) Min(t, (MHD_UNSIGNED_LONG_LONG) max_wait_ms));
	}
	if (ts_wait_set == NULL)
		ts_http_wait_set_build();
	nready = WaitEventSetWait(ts_wait_set, timeout, events, lengthof(events), PG_WAIT_EXTENSION);
	for (int i = 0; i < nready; i++)
		if (events[i].events & WL_LATCH_SET)
			ResetLatch(MyLatch);
}

/*
 * True on a Citus worker node, where the HTTP worker listens on nothing (the
 * API is the coordinator's): logged the first time.
 */
static bool
ts_http_citus_worker(void)
{
	static bool logged = false;
	bool		worker;

	ts_worker_begin();
	worker = ts_citus_role() == TS_CITUS_WORKER;
	ts_worker_end();
	if (worker && !logged)
		elog(LOG, "troubleshooting http worker idles: this node is a Citus worker");
	logged = worker;
	return worker;
}

/*
 * Lets every daemon accept, read, answer (router.c) and time out all
 * that is ready: MHD_run takes every event its epoll set holds.
 */
static void
ts_http_run_daemons(void)
{
	for (int i = 0; i < ts_ndaemons; i++)
		MHD_run(ts_daemons[i]);
}

/* Entry point of the HTTP worker. */
void
ts_http_main(Datum arg)
{
	MemoryContext loopcxt;
	volatile TimestampTz retry_at = 0;	/* next attempt to start the listener */
	volatile bool wait_for_reload = false;

	ts_worker_init_signals();
	ts_worker_connect(ts_http_dbname(), InvalidOid);	/* search_path pinned to pg_catalog, pg_temp */

	loopcxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting http loop",
									ALLOCSET_DEFAULT_SIZES);
	elog(LOG, "troubleshooting http worker started in database \"%s\"%s", ts_http_dbname(),
		 RecoveryInProgress() ? " (hot standby: read endpoints only)" : "");

	for (;;)
	{
		MemoryContextSwitchTo(loopcxt);
		if (ts_ndaemons == 0 && !wait_for_reload && GetCurrentTimestamp() >= retry_at &&
			ts_http_citus_worker())
			retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), TS_HTTP_RETRY_MS);
		else if (ts_ndaemons == 0 && !wait_for_reload && GetCurrentTimestamp() >= retry_at)
		{
			PG_TRY();
			{
				ts_http_start();
			}
			PG_CATCH();
			{
				MemoryContextSwitchTo(loopcxt);
				EmitErrorReport();
				FlushErrorState();
				/* a refusal stands until the settings change; a failure is retried */
				if (!ts_http_policy_ok())
					wait_for_reload = true;
				retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), TS_HTTP_RETRY_MS);
			}
			PG_END_TRY();
		}

		ts_http_poll(TS_HTTP_MAX_WAIT_MS);

		/* the worker is idle here: a cancel request has nothing to cancel */
		QueryCancelPending = false;
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			ts_http_cache_drop();	/* role, token or cache time may have changed */
			wait_for_reload = false;
			retry_at = 0;		/* a listener that could not start is tried again now */
			if (ts_ndaemons > 0 && !ts_http_policy_ok())
			{
				/* the token was removed while listening beyond loopback: close */
				ts_http_stop();
				PG_TRY();
				{
					ts_http_policy_error();
				}
				PG_CATCH();
				{
					MemoryContextSwitchTo(loopcxt);
					EmitErrorReport();
					FlushErrorState();
					wait_for_reload = true;
				}
				PG_END_TRY();
			}
		}

		/* requests are answered in here, each in its own transaction */
		(void) ts_http_cut_late(0);
		ts_http_run_daemons();
		MemoryContextReset(loopcxt);
	}
}
