/*
 * delay.h
 *	  Retry delays of the dispatcher: clamping, backoff, servers' waits.
 */
#ifndef TS_DELAY_H
#define TS_DELAY_H

#include "postgres.h"

extern int64 ts_clamp_delay_ms(double ms);
extern int64 ts_retry_after_ms(const char *value);
extern int64 ts_discord_retry_after_ms(const char *body);
extern int64 ts_backoff_ms(int attempts);

#endif							/* TS_DELAY_H */
