/*
 * contrib.h
 *	  The report rollups' bookkeeping (contrib.c): what a session with
 *	  its attempts and feedback contributes to the hourly report rollups, and
 *	  the delta set that collects contributions and writes them, signed and
 *	  merged, to ts_report_delta.
 */
#ifndef TS_REPORT_ROLLUP_CONTRIB_H
#define TS_REPORT_ROLLUP_CONTRIB_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"

/* The columns of a session row that the report rollups use. */
typedef struct TsRepSession
{
	char	   *session_id;
	TimestampTz started_at;
	char	   *problem;		/* detected_problem_id, or NULL */
	char	   *title;			/* detected_problem_title, or NULL */
	char	   *status;
	bool		has_res;		/* resolved with a resolved_at */
	int64		res_us;			/* resolved_at - started_at in microseconds */
} TsRepSession;

/* One attempt row. */
typedef struct TsRepAttempt
{
	int64		id;
	int32		step;
	char	   *title;
	bool		success;
	TimestampTz at;
} TsRepAttempt;

/* One feedback row (nps -1 and helpful -1 for NULL). */
typedef struct TsRepFeedback
{
	int64		id;
	TimestampTz at;
	int16		rating;
	int16		nps;
	int16		helpful;
} TsRepFeedback;

typedef struct TsRepDeltas TsRepDeltas;

extern TsRepDeltas *ts_rep_deltas_create(void);
extern void ts_rep_add_session(TsRepDeltas *d, const TsRepSession *s, bool rated, int sign);
extern void ts_rep_add_attempts(TsRepDeltas *d, const char *problem, TsRepAttempt *a, int n,
								int sign);
extern void ts_rep_add_feedback(TsRepDeltas *d, const char *problem, TsRepFeedback *f, int n,
								int sign);
extern void ts_rep_deltas_write(TsRepDeltas *d, Oid relid, const char *session_id);

/* Row readers shared by the triggers and the retention batch. */
extern void ts_rep_session_from_tuple(TsRepSession *s, HeapTuple tup, TupleDesc desc);
extern void ts_rep_attempt_from_tuple(TsRepAttempt *a, HeapTuple tup, TupleDesc desc);
extern void ts_rep_feedback_from_tuple(TsRepFeedback *f, HeapTuple tup, TupleDesc desc);
extern char *ts_rep_text_col(HeapTuple tup, TupleDesc desc, const char *name);

#endif							/* TS_REPORT_ROLLUP_CONTRIB_H */
