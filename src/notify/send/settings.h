/*
 * settings.h
 *	  The dispatcher's settings.
 */
#ifndef TS_SETTINGS_H
#define TS_SETTINGS_H

extern int	ts_dispatcher_concurrency;
extern int	ts_dispatcher_host_concurrency;
extern int	ts_connect_timeout;
extern int	ts_request_timeout;
extern int	ts_retry_base_delay;
extern int	ts_retry_max_delay;
extern int	ts_slack_min_interval;
extern int	ts_dispatcher_batch_size;

extern void ts_dispatcher_define_gucs(void);

#endif							/* TS_SETTINGS_H */
