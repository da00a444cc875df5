/*
 * rollup_batch.c
 *	  Report rollup changes of a retention batch: the set-based delete in
 *	  cleanup.c runs with session_replication_role = replica, which skips
 *	  the report triggers, and removes whole sessions with all their attempts
 *	  and feedback.  It hands every deleted row here; the batch then
 *	  subtracts each session's whole contribution (rollup_contrib.c), merged
 *	  per rollup key, in one write.
 */
#include "postgres.h"

#include "compat.h"
#include "report/rollup.h"
#include "report/rollup_batch.h"

#include "utils/hsearch.h"
#include "utils/memutils.h"

/* One deleted session with its deleted children. */
typedef struct TsRepBatchEntry
{
	char		key[NAMEDATALEN * 4];	/* hash key: the session id (truncated) */
	List	   *sessions;		/* TsRepSession (one, or several if ids share a prefix) */
	List	   *attempts;		/* (session_id, TsRepAttempt) */
	List	   *feedback;
} TsRepBatchEntry;

/* A child row with the session it belongs to. */
typedef struct TsRepChild
{
	char	   *session_id;
	TsRepAttempt a;
	TsRepFeedback f;
} TsRepChild;

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

/* The entry of a session id, created when new. */
static TsRepBatchEntry *
ts_rep_batch_entry(TsRepBatch *b, const char *session_id)
{
	char		key[NAMEDATALEN * 4];
	bool		found;
	TsRepBatchEntry *e;

	memset(key, 0, sizeof(key));
	strlcpy(key, session_id, sizeof(key));
	e = hash_search(b->entries, key, HASH_ENTER, &found);
	if (!found)
	{
		e->sessions = NIL;
		e->attempts = NIL;
		e->feedback = NIL;
	}
	return e;
}

/* Adds a deleted session row. */
void
ts_rep_batch_session(TsRepBatch *b, HeapTuple tup, TupleDesc desc)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	TsRepSession *s = palloc(sizeof(TsRepSession));
	TsRepBatchEntry *e;

	ts_rep_session_from_tuple(s, tup, desc);
	e = ts_rep_batch_entry(b, s->session_id);
	e->sessions = lappend(e->sessions, s);
	MemoryContextSwitchTo(old);
}

/* Adds a deleted attempt row (with its session_id). */
void
ts_rep_batch_attempt(TsRepBatch *b, HeapTuple tup, TupleDesc desc)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	TsRepChild *c = palloc0(sizeof(TsRepChild));
	TsRepBatchEntry *e;

	c->session_id = ts_rep_text_col(tup, desc, "session_id");
	ts_rep_attempt_from_tuple(&c->a, tup, desc);
	e = ts_rep_batch_entry(b, c->session_id);
	e->attempts = lappend(e->attempts, c);
	MemoryContextSwitchTo(old);
}

/* Adds a deleted feedback row (with its session_id). */
void
ts_rep_batch_feedback(TsRepBatch *b, HeapTuple tup, TupleDesc desc)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	TsRepChild *c = palloc0(sizeof(TsRepChild));
	TsRepBatchEntry *e;

	c->session_id = ts_rep_text_col(tup, desc, "session_id");
	ts_rep_feedback_from_tuple(&c->f, tup, desc);
	e = ts_rep_batch_entry(b, c->session_id);
	e->feedback = lappend(e->feedback, c);
	MemoryContextSwitchTo(old);
}

/* Subtracts every deleted session's whole contribution and writes it; frees the batch. */
void
ts_rep_batch_write(TsRepBatch *b, Oid nspid)
{
	TsRepDeltas *d = ts_rep_deltas_create();
	HASH_SEQ_STATUS seq;
	TsRepBatchEntry *e;

	hash_seq_init(&seq, b->entries);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		ListCell   *lc;

		foreach(lc, e->sessions)
		{
			TsRepSession *s = lfirst(lc);
			TsRepAttempt *a = palloc(sizeof(TsRepAttempt) * (list_length(e->attempts) + 1));
			TsRepFeedback *f = palloc(sizeof(TsRepFeedback) * (list_length(e->feedback) + 1));
			int			na = 0,
						nf = 0;
			ListCell   *lc2;

			foreach(lc2, e->attempts)
			{
				TsRepChild *c = lfirst(lc2);

				if (strcmp(c->session_id, s->session_id) == 0)
					a[na++] = c->a;
			}
			foreach(lc2, e->feedback)
			{
				TsRepChild *c = lfirst(lc2);

				if (strcmp(c->session_id, s->session_id) == 0)
					f[nf++] = c->f;
			}
			ts_rep_add_session(d, s, nf > 0, -1);
			ts_rep_add_attempts(d, s->problem, a, na, -1);
			ts_rep_add_feedback(d, s->problem, f, nf, -1);
		}
	}
	ts_rep_deltas_write(d, nspid);
	MemoryContextDelete(b->cxt);
	pfree(b);
}
