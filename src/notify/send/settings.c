/*
 * settings.c
 *	  The dispatcher's settings (troubleshooting.dispatcher_concurrency,
 *	  request_timeout, retry delays, ...): their variables and definitions,
 *	  read by the dispatcher loop, the claim and the outcome recording.
 */
#include "postgres.h"

#include "net/policy.h"
#include "notify/send/settings.h"

#include <limits.h>

#include "utils/guc.h"

int			ts_dispatcher_concurrency = 64;
int			ts_dispatcher_host_concurrency = 16;
int			ts_connect_timeout = 5000;
int			ts_request_timeout = 30000;
int			ts_retry_base_delay = 1000;
int			ts_retry_max_delay = 3600000;
int			ts_slack_min_interval = 1000;
int			ts_dispatcher_batch_size = 500;


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
	ts_policy_define_gucs();
}
