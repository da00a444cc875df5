/*
 * batch.c
 *	  Report rollup changes of a retention batch: the set-based delete in
 *	  retention/cleanup.c runs with session_replication_role = replica, which skips
 *	  the report triggers, and removes whole sessions with all their attempts
 *	  and feedback.  It hands every deleted row here; the batch then
 *	  subtracts each session's whole contribution (contrib.c), merged
 *	  per rollup key, in one write.
 */
#include "postgres.h"

#include "compat.h"
#include "report/rollup/contrib.h"
#include "report/rollup/batch.h"

#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* One deleted session (by id; ids are at most 200 bytes) with its deleted children. */
typedef struct TsRepBatchEntry
{
	char		key[256];		/* hash key: the session id */
	TsRepSession *session;		/* NULL until the session row comes */
	TsRepAttempt *attempts;
	int			nattempts,
				capattempts;
	TsRepFeedback *feedback;
	int			nfeedback,
				capfeedback;
} TsRepBatchEntry;

struct TsRepBatch
{
	HTAB	   *entries;
	MemoryContext cxt;
};

/* An empty batch in a child of the current memory context. */
TsRepBatch *
ts_rep_batch_create(void)
{
	TsRepBatch *b = palloc0(sizeof(TsRepBatch));
	HASHCTL		ctl;

	b->cxt = AllocSetContextCreate(CurrentMemoryContext, "troubleshooting report batch",
								   ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(((TsRepBatchEntry *) 0)->key);
	ctl.entrysize = sizeof(TsRepBatchEntry);
	ctl.hcxt = b->cxt;
	b->entries = hash_create("troubleshooting report batch", 1024, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	return b;
}

/* The entry of the session id in column session_id of tup, created when new. */
static TsRepBatchEntry *
ts_rep_batch_entry(TsRepBatch *b, HeapTuple tup, TupleDesc desc)
{
	char		key[256];
	char	   *id = ts_rep_text_col(tup, desc, "session_id");
	bool		found;
	TsRepBatchEntry *e;

	if (id == NULL || strlen(id) >= sizeof(key))
		elog(ERROR, "deleted row has no valid session_id");
	memset(key, 0, sizeof(key));
	strlcpy(key, id, sizeof(key));
	e = hash_search(b->entries, key, HASH_ENTER, &found);
	if (!found)
		memset((char *) e + sizeof(e->key), 0, sizeof(*e) - sizeof(e->key));
	return e;
}

/* Grows a batch array of elements of size `size` to hold one more. */
static void *
ts_rep_batch_grow(void *arr, int n, int *cap, size_t size)
{
	if (n < *cap)
		return arr;
	*cap = Max(4, *cap * 2);
	return arr ? repalloc(arr, size * *cap) : palloc(size * *cap);
}

/* Adds a deleted session row. */
void
ts_rep_batch_session(TsRepBatch *b, HeapTuple tup, TupleDesc desc)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	TsRepBatchEntry *e = ts_rep_batch_entry(b, tup, desc);

	e->session = palloc(sizeof(TsRepSession));
	ts_rep_session_from_tuple(e->session, tup, desc);
	MemoryContextSwitchTo(old);
}

/* Adds a deleted attempt or feedback row (with its session_id). */
void
ts_rep_batch_child(TsRepBatch *b, bool attempt, HeapTuple tup, TupleDesc desc)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	TsRepBatchEntry *e = ts_rep_batch_entry(b, tup, desc);

	if (attempt)
	{
		e->attempts = ts_rep_batch_grow(e->attempts, e->nattempts, &e->capattempts,
										sizeof(TsRepAttempt));
		ts_rep_attempt_from_tuple(&e->attempts[e->nattempts++], tup, desc);
	}
	else
	{
		e->feedback = ts_rep_batch_grow(e->feedback, e->nfeedback, &e->capfeedback,
										sizeof(TsRepFeedback));
		ts_rep_feedback_from_tuple(&e->feedback[e->nfeedback++], tup, desc);
	}
	MemoryContextSwitchTo(old);
}

/* Subtracts every deleted session's whole contribution and writes it; frees the batch. */
void
ts_rep_batch_write(TsRepBatch *b, Oid nspid)
{
	TsRepDeltas *d = ts_rep_deltas_create();
	HASH_SEQ_STATUS seq;
	TsRepBatchEntry *e;
	Oid			relid;

	hash_seq_init(&seq, b->entries);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->session == NULL)
			continue;
		ts_rep_add_session(d, e->session, e->nfeedback > 0, -1);
		ts_rep_add_attempts(d, e->session->problem, e->attempts, e->nattempts, -1);
		ts_rep_add_feedback(d, e->session->problem, e->feedback, e->nfeedback, -1);
	}
	relid = get_relname_relid("ts_report_delta", nspid);
	if (!OidIsValid(relid))
		elog(ERROR, "relation ts_report_delta is missing");
	ts_rep_deltas_write(d, relid, NULL);
	MemoryContextDelete(b->cxt);
	pfree(b);
}
