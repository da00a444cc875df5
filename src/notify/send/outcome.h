/*
 * outcome.h
 *	  Queued results of the dispatcher's attempts, recorded in batches.
 */
#ifndef TS_OUTCOME_H
#define TS_OUTCOME_H

#include "postgres.h"
#include "datatype/timestamp.h"

extern void ts_outcomes_init(void);
extern char *ts_clean_text(const char *s, int max);
extern int64 ts_clamp_delay_ms(double ms);
extern int64 ts_retry_after_ms(const char *value);
extern int64 ts_discord_retry_after_ms(const char *body);
extern void ts_outcome(int64 id, const char *status, const char *error, const char *provider_id,
					   int64 delay_ms, int undo, int64 disable_webhook);
extern int	ts_outcomes_count(void);
extern TimestampTz ts_outcomes_oldest(void);
extern void ts_outcomes_discard(void);
extern void ts_record_outcomes(void);

#endif							/* TS_OUTCOME_H */
