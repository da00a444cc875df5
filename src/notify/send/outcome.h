/*
 * outcome.h
 *	  Queued results of the dispatcher's attempts, recorded in batches.
 */
#ifndef TS_OUTCOME_H
#define TS_OUTCOME_H

#include "postgres.h"
#include "datatype/timestamp.h"

/* What one attempt at a row came to (fields not named are 0 / NULL). */
typedef struct TsOutcome
{
	const char *status;			/* sent, failed or pending */
	const char *error;			/* why it failed or waits, or NULL */
	const char *provider_id;	/* sent: the provider's message id */
	int64		delay_ms;		/* pending: wait before the next try */
	int			undo_attempt;	/* pending: deferred without trying */
	int64		disable_webhook;	/* the subscription to disable (HTTP 410) */
} TsOutcome;

extern void ts_outcomes_init(void);
extern void ts_outcome(int64 id, const char *session_id, const TsOutcome *outcome);
extern int	ts_outcomes_count(void);
extern TimestampTz ts_outcomes_oldest(void);
extern void ts_outcomes_discard(void);
extern void ts_record_outcomes(void);

#endif							/* TS_OUTCOME_H */
