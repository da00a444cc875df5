/*
 * triggers.c
 *	  The triggers that keep the report rollups exact, in the writer's
 *	  transaction: a row trigger on sessions and statement triggers (with
 *	  transition tables) on attempts and feedback.  Each change recomputes
 *	  what the touched session contributes before and after it
 *	  (contrib.c) and writes the difference to ts_report_delta.
 *
 *	  Exactness rests on three rules:
 *	  - The rollups hold the sum, over the sessions that exist, of each
 *	    session's contribution with its attempts and feedback.  Rows whose
 *	    session is not there (a restore that loads children first) count
 *	    nothing until the session arrives: its insert adds them.
 *	  - The sessions trigger is named "A_ts_report_rollup" so that it fires
 *	    before the foreign keys' RI_ConstraintTrigger_* (triggers fire in
 *	    name order): a session's delete or key change accounts for its
 *	    attempts and feedback while they are still there, and the cascaded
 *	    child changes (whose old session is gone) are skipped.
 *	  - Writers of a session's children lock the session row (FOR NO KEY
 *	    UPDATE, the lock an UPDATE of the session takes too, so the two
 *	    cannot deadlock over it), and the sessions trigger runs under the
 *	    row lock of its own UPDATE or DELETE: changes to one session are
 *	    counted one after the other.  Children are read with a snapshot that
 *	    sees every committed row.  (An inserted session needs no lock: no
 *	    other transaction can add children to it before it commits.  Nor
 *	    does a session whose row version this transaction wrote: no one else
 *	    can lock it before the transaction ends; see ts_rep_read_session.)
 *	  The reads run as the table's owner, as foreign key checks do: a writer
 *	  needs no rights on the other tables, and the queries name every object
 *	  and operator by schema.
 */
#include "postgres.h"

#include "base/compare.h"
#include "citus/placement.h"
#include "compat.h"
#include "report/rollup/contrib.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "lib/stringinfo.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(ts_report_sessions_rollup);
PG_FUNCTION_INFO_V1(ts_report_attempts_rollup);
PG_FUNCTION_INFO_V1(ts_report_feedback_rollup);

/* Where a trigger's reads and writes go (ts_rep_place). */
typedef struct TsRepPlace
{
	Relation	rel;			/* the relation the trigger fired for */
	const char *own;			/* ... a relation of this extension table */
	Oid			sessions;		/* the sessions relation beside it */
	Oid			delta;			/* the ts_report_delta relation beside it */
} TsRepPlace;

enum
{
	Q_LOCK,
	Q_ATTEMPTS_OF,
	Q_FEEDBACK_OF,
	Q_CHILDREN,
	Q_HAS_FEEDBACK,
	Q_OWN_ATTEMPTS,
	Q_OWN_FEEDBACK,
	Q_COUNT
};

#define TS_SESSION_COLS "s.session_id, s.started_at, s.detected_problem_id, s.detected_problem_title," \
	" s.status, s.resolved_at"

static const char *const ts_rep_queries[Q_COUNT] = {
	/* a session, locked against other writers of its children */
	[Q_LOCK] = "SELECT " TS_SESSION_COLS " FROM @S@ s"
	" WHERE s.session_id OPERATOR(pg_catalog.=) $1::pg_catalog.text FOR NO KEY UPDATE",
	[Q_ATTEMPTS_OF] = "SELECT id, step_number, step_title, success, attempted_at"
	" FROM @A@"
	" WHERE session_id OPERATOR(pg_catalog.=) $1::pg_catalog.text",
	[Q_FEEDBACK_OF] = "SELECT id, collected_at, rating, nps_score, was_helpful"
	" FROM @F@"
	" WHERE session_id OPERATOR(pg_catalog.=) $1::pg_catalog.text",
	/* a session's attempts (kind a) and feedback (kind f) */
	[Q_CHILDREN] = "SELECT 'a'::pg_catalog.\"char\" AS kind, id, step_number, step_title, success,"
	" attempted_at, NULL::pg_catalog.timestamptz AS collected_at, NULL::pg_catalog.int2 AS rating,"
	" NULL::pg_catalog.int2 AS nps_score, NULL::pg_catalog.bool AS was_helpful"
	" FROM @A@"
	" WHERE session_id OPERATOR(pg_catalog.=) $1::pg_catalog.text"
	" UNION ALL SELECT 'f', id, NULL, NULL, NULL, NULL, collected_at, rating, nps_score, was_helpful"
	" FROM @F@"
	" WHERE session_id OPERATOR(pg_catalog.=) $1::pg_catalog.text",
	[Q_HAS_FEEDBACK] = "SELECT 1 FROM @F@"
	" WHERE session_id OPERATOR(pg_catalog.=) $1::pg_catalog.text LIMIT 1",
	/* a session, unlocked, with the writer of its row version and its attempts (or feedback) */
	[Q_OWN_ATTEMPTS] = "SELECT " TS_SESSION_COLS ", s.xmin AS ts_xmin, c.id, c.step_number,"
	" c.step_title, c.success, c.attempted_at FROM @S@ s"
	" LEFT JOIN @A@ c"
	" ON c.session_id OPERATOR(pg_catalog.=) s.session_id"
	" WHERE s.session_id OPERATOR(pg_catalog.=) $1::pg_catalog.text",
	[Q_OWN_FEEDBACK] = "SELECT " TS_SESSION_COLS ", s.xmin AS ts_xmin, c.id, c.collected_at,"
	" c.rating, c.nps_score, c.was_helpful FROM @S@ s"
	" LEFT JOIN @F@ c"
	" ON c.session_id OPERATOR(pg_catalog.=) s.session_id"
	" WHERE s.session_id OPERATOR(pg_catalog.=) $1::pg_catalog.text",
};

/*
 * The sessions this transaction inserted or updated, as a hint of which
 * sessions' children can be read without a lock (ts_rep_read_own_session
 * checks the row itself).  The table lives in TopTransactionContext; a
 * transaction callback forgets it when the transaction ends.
 */
#define TS_REP_OWN_KEY 64
#define TS_REP_OWN_MAX 4096
static HTAB *ts_rep_own = NULL;

/* Forgets the own-sessions table when the top transaction ends (its memory goes with it). */
static void
ts_rep_own_xact_end(XactEvent event, void *arg)
{
	ts_rep_own = NULL;
}

/* The current transaction's table of its own sessions, made on first use when create. */
static HTAB *
ts_rep_own_table(bool create)
{
	static bool registered = false;

	if (ts_rep_own == NULL && create)
	{
		HASHCTL		ctl;

		if (!registered)
		{
			RegisterXactCallback(ts_rep_own_xact_end, NULL);
			registered = true;
		}
		ctl.keysize = TS_REP_OWN_KEY;
		ctl.entrysize = TS_REP_OWN_KEY;
		ctl.hcxt = TopTransactionContext;
		ts_rep_own = hash_create("troubleshooting own sessions", 64, &ctl,
								 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	return ts_rep_own;
}

/* Notes that this transaction wrote a session's row (ids too long are not noted). */
static void
ts_rep_own_note(const char *session_id)
{
	HTAB	   *h;

	if (session_id == NULL || strlen(session_id) >= TS_REP_OWN_KEY)
		return;
	h = ts_rep_own_table(true);
	if (hash_get_num_entries(h) < TS_REP_OWN_MAX)
		(void) hash_search(h, session_id, HASH_ENTER, NULL);
}

/* True when this transaction noted writing the session's row. */
static bool
ts_rep_own_noted(const char *session_id)
{
	HTAB	   *h = ts_rep_own_table(false);

	if (h == NULL || strlen(session_id) >= TS_REP_OWN_KEY)
		return false;
	return hash_search(h, session_id, HASH_FIND, NULL) != NULL;
}

/*
 * Saved plans, per placement: the extension's tables, or on Citus each group
 * of shards beside one another (keyed by the sessions relation).  A full
 * cache starts again.
 */
#define TS_REP_MAX_PLACES 256
typedef struct TsRepPlans
{
	Oid			key;
	SPIPlanPtr	plans[Q_COUNT];
} TsRepPlans;
static TsRepPlans ts_rep_plans[TS_REP_MAX_PLACES];
static int	ts_rep_nplans = 0;

/* Names the relations beside rel (a relation of table own) that the reads use. */
static void
ts_rep_place(TsRepPlace *pl, Relation rel, const char *own)
{
	pl->sessions = ts_beside_relid(rel, own, "support_troubleshooting_sessions");
	pl->rel = rel;
	pl->own = own;
	pl->delta = ts_beside_relid(rel, own, "ts_report_delta");
}

/* A query's text with @S@, @A@ and @F@ replaced by names[0..2]. */
static char *
ts_rep_fill(const char *query, const char *const *names)
{
	StringInfoData buf;
	const char *p = query;

	initStringInfo(&buf);
	while (*p)
	{
		if (p[0] == '@' && p[1] && p[2] == '@' && strchr("SAF", p[1]))
		{
			appendStringInfoString(&buf, names[p[1] == 'S' ? 0 : p[1] == 'A' ? 1 : 2]);
			p += 3;
		}
		else
			appendStringInfoChar(&buf, *p++);
	}
	return buf.data;
}

/* The saved plans of a placement, prepared on first use. */
static SPIPlanPtr *
ts_rep_plans_of(const TsRepPlace *pl)
{
	TsRepPlans *p = NULL;
	const char *names[3];
	Oid			type = TEXTOID;

	for (int i = 0; i < ts_rep_nplans; i++)
		if (ts_rep_plans[i].key == pl->sessions)
			return ts_rep_plans[i].plans;
	if (ts_rep_nplans == TS_REP_MAX_PLACES)
	{
		for (int i = 0; i < ts_rep_nplans; i++)
			for (int q = 0; q < Q_COUNT; q++)
				SPI_freeplan(ts_rep_plans[i].plans[q]);
		ts_rep_nplans = 0;
	}
	names[0] = ts_beside_name(pl->rel, pl->own, "support_troubleshooting_sessions");
	names[1] = ts_beside_name(pl->rel, pl->own, "support_troubleshooting_attempts");
	names[2] = ts_beside_name(pl->rel, pl->own, "support_troubleshooting_feedback");
	p = &ts_rep_plans[ts_rep_nplans];
	for (int i = 0; i < Q_COUNT; i++)
	{
		SPIPlanPtr	plan = SPI_prepare(ts_rep_fill(ts_rep_queries[i], names),
									   1, &type);

		if (plan == NULL)
			elog(ERROR, "report rollup query failed to prepare: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		p->plans[i] = plan;
	}
	p->key = pl->sessions;
	ts_rep_nplans++;
	return p->plans;
}

/* Runs query q for one session id; children are read with a snapshot that sees every committed row. */
static void
ts_rep_exec(int q, const char *session_id, const TsRepPlace *pl)
{
	Datum		arg = CStringGetTextDatum(session_id);
	SPIPlanPtr	plan = ts_rep_plans_of(pl)[q];
	int			ret;

	if (IsolationUsesXactSnapshot())
	{
		/* the transaction's snapshot may predate a change whose writer held the lock */
		CommandCounterIncrement();
		ret = SPI_execute_snapshot(plan, &arg, NULL, GetLatestSnapshot(),
								   InvalidSnapshot, false, false, 0);
	}
	else
		ret = SPI_execute_plan(plan, &arg, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report rollup query failed: %s", SPI_result_code_string(ret));
}

/*
 * The attempts (or feedback) among the last query's rows, read by column
 * name: with kind, only the rows whose "kind" column says so; rows with a
 * NULL id (the empty side of an outer join) are skipped.
 */
static void
ts_rep_result_children(bool attempts, char kind, void **out, int *n)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	int			idcol = SPI_fnumber(desc, "id");
	int			kindcol = kind ? SPI_fnumber(desc, "kind") : 0;

	*out = palloc((attempts ? sizeof(TsRepAttempt) : sizeof(TsRepFeedback)) *
				  (SPI_processed + 1));
	*n = 0;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		bool		isnull;

		if (kindcol > 0 && DatumGetChar(SPI_getbinval(row, desc, kindcol, &isnull)) != kind)
			continue;
		(void) SPI_getbinval(row, desc, idcol, &isnull);
		if (isnull)
			continue;
		if (attempts)
			ts_rep_attempt_from_tuple(&((TsRepAttempt *) *out)[(*n)++], row, desc);
		else
			ts_rep_feedback_from_tuple(&((TsRepFeedback *) *out)[(*n)++], row, desc);
	}
}

/*
 * Reads a session row with its attempts (or feedback) when this transaction
 * wrote the row version it reads: then no other transaction can lock the row
 * until this one ends, so the row needs no lock of its own.  False (nothing
 * read) otherwise.
 */
static bool
ts_rep_read_own_session(const char *session_id, const TsRepPlace *pl, bool attempts, TsRepSession *s,
						void **out, int *n)
{
	TupleDesc	desc;
	bool		isnull;
	Datum		xmin;

	if (!ts_rep_own_noted(session_id))
		return false;
	ts_rep_exec(attempts ? Q_OWN_ATTEMPTS : Q_OWN_FEEDBACK, session_id, pl);
	if (SPI_processed == 0)
		return false;
	desc = SPI_tuptable->tupdesc;
	xmin = SPI_getbinval(SPI_tuptable->vals[0], desc, SPI_fnumber(desc, "ts_xmin"), &isnull);
	if (isnull || !TransactionIdIsCurrentTransactionId(DatumGetTransactionId(xmin)))
		return false;
	ts_rep_session_from_tuple(s, SPI_tuptable->vals[0], desc);
	ts_rep_result_children(attempts, 0, out, n);
	return true;
}

/*
 * Reads a session row with its attempts (or feedback), locking it unless
 * this transaction wrote it; false when the session does not exist.  *out
 * gets the children.
 */
static bool
ts_rep_read_session(const char *session_id, const TsRepPlace *pl, bool attempts, TsRepSession *s,
					void **out, int *n)
{
	*n = 0;
	*out = NULL;
	if (ts_rep_read_own_session(session_id, pl, attempts, s, out, n))
		return true;
	ts_rep_exec(Q_LOCK, session_id, pl);
	if (SPI_processed == 0)
		return false;
	ts_rep_session_from_tuple(s, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	ts_rep_exec(attempts ? Q_ATTEMPTS_OF : Q_FEEDBACK_OF, session_id, pl);
	ts_rep_result_children(attempts, 0, out, n);
	return true;
}

/* Reads all attempts and feedback of a session (Q_CHILDREN, locked by the caller). */
static void
ts_rep_read_children(const char *session_id, const TsRepPlace *pl, TsRepAttempt **a, int *na,
					 TsRepFeedback **f, int *nf)
{
	ts_rep_exec(Q_CHILDREN, session_id, pl);
	ts_rep_result_children(true, 'a', (void **) a, na);
	ts_rep_result_children(false, 'f', (void **) f, nf);
}

/* Connects SPI and acts as the owner of rel until ts_rep_end(); returns the saved identity. */
static void
ts_rep_begin(Relation rel, Oid *save_userid, int *save_sec)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(save_userid, save_sec);
	SetUserIdAndSecContext(RelationGetForm(rel)->relowner,
						   *save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
}

/* Restores the caller's identity and closes SPI. */
static void
ts_rep_end(Oid save_userid, int save_sec)
{
	SetUserIdAndSecContext(save_userid, save_sec);
	SPI_finish();
}

/* True when two session rows put the session under the same rollup keys and measures. */
static bool
ts_rep_session_same(const TsRepSession *a, const TsRepSession *b)
{
	return a->started_at == b->started_at && a->has_res == b->has_res &&
		a->res_us == b->res_us && strcmp(a->status, b->status) == 0 &&
		((a->problem == NULL && b->problem == NULL) ||
		 (a->problem && b->problem && strcmp(a->problem, b->problem) == 0)) &&
		((a->title == NULL && b->title == NULL) ||
		 (a->title && b->title && strcmp(a->title, b->title) == 0));
}

/* True when two sessions' problems differ. */
static bool
ts_rep_problem_changed(const TsRepSession *a, const TsRepSession *b)
{
	if (a->problem == NULL || b->problem == NULL)
		return a->problem != b->problem;
	return strcmp(a->problem, b->problem) != 0;
}

/*
 * Subtracts everything session row old contributes and adds everything new
 * contributes (either may be NULL), with the children read once.
 */
static void
ts_rep_add_whole(TsRepDeltas *d, const TsRepSession *old, const TsRepSession *new,
				 const char *children_of, const TsRepPlace *pl)
{
	TsRepAttempt *a;
	TsRepFeedback *f;
	int			na,
				nf;

	ts_rep_read_children(children_of, pl, &a, &na, &f, &nf);
	for (int sign = -1; sign <= 1; sign += 2)
	{
		const TsRepSession *s = sign < 0 ? old : new;

		if (s == NULL)
			continue;
		ts_rep_add_session(d, s, nf > 0, sign);
		ts_rep_add_attempts(d, s->problem, a, na, sign);
		ts_rep_add_feedback(d, s->problem, f, nf, sign);
	}
}

/* AFTER ROW INSERT OR UPDATE OR DELETE on support_troubleshooting_sessions. */
Datum
ts_report_sessions_rollup(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	TsRepPlace	place;
	const TsRepPlace *pl = &place;
	TsRepDeltas *d;
	TsRepSession old,
				new;
	Oid			save_userid;
	int			save_sec;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "report rollup trigger must be an AFTER ROW trigger");
	desc = RelationGetDescr(td->tg_relation);

	if (!TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ts_rep_own_note(ts_rep_text_col(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ?
										td->tg_newtuple : td->tg_trigtuple, desc, "session_id"));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		ts_rep_session_from_tuple(&old, td->tg_trigtuple, desc);
		ts_rep_session_from_tuple(&new, td->tg_newtuple, desc);
		/* a new session_id alone changes no key: the children follow by cascade */
		if (ts_rep_session_same(&old, &new))
			return PointerGetDatum(NULL);
	}

	ts_rep_begin(td->tg_relation, &save_userid, &save_sec);
	ts_rep_place(&place, td->tg_relation, "support_troubleshooting_sessions");
	d = ts_rep_deltas_create();
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		ts_rep_session_from_tuple(&new, td->tg_trigtuple, desc);
		ts_rep_add_whole(d, NULL, &new, new.session_id, pl);
	}
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		ts_rep_session_from_tuple(&old, td->tg_trigtuple, desc);
		ts_rep_add_whole(d, &old, NULL, old.session_id, pl);
	}
	else if (ts_rep_problem_changed(&old, &new))
	{
		/* the children are still under the old id: the cascade comes after */
		ts_rep_add_whole(d, &old, &new, old.session_id, pl);
	}
	else
	{
		bool		rated;

		ts_rep_exec(Q_HAS_FEEDBACK, old.session_id, pl);
		rated = SPI_processed > 0;
		ts_rep_add_session(d, &old, rated, -1);
		ts_rep_add_session(d, &new, rated, 1);
	}
	ts_rep_deltas_write(d, pl->delta, ts_rep_text_col(td->tg_trigtuple, desc, "session_id"));
	ts_rep_end(save_userid, save_sec);
	return PointerGetDatum(NULL);
}

/* The rows of a transition table, as heap tuples in the current context. */
static HeapTuple *
ts_rep_transition_rows(Tuplestorestate *ts, TupleDesc desc, int *n)
{
	TupleTableSlot *slot;
	HeapTuple  *rows;
	int			cap = 16;

	*n = 0;
	if (ts == NULL)
		return NULL;
	rows = palloc(sizeof(HeapTuple) * cap);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	tuplestore_rescan(ts);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		if (*n >= cap)
		{
			cap *= 2;
			rows = repalloc(rows, sizeof(HeapTuple) * cap);
		}
		rows[(*n)++] = ExecCopySlotHeapTuple(slot);
		CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	return rows;
}

/* A changed child row: its session and whether it is kept (its session exists). */
typedef struct TsRepChange
{
	HeapTuple	tup;
	char	   *session_id;
	int64		id;
	bool		keep;
} TsRepChange;

/* One session the statement touched. */
typedef struct TsRepTouched
{
	char	   *session_id;
	bool		exists;
	TsRepSession s;
	void	   *children;		/* TsRepAttempt or TsRepFeedback, after the statement */
	int			nchildren;
} TsRepTouched;

/* qsort comparator: session ids in byte order (the lock order). */
static int
ts_rep_touched_cmp(const void *a, const void *b)
{
	return strcmp(((const TsRepTouched *) a)->session_id, ((const TsRepTouched *) b)->session_id);
}

/* Finds a session in the sorted touched list. */
static TsRepTouched *
ts_rep_find_touched(TsRepTouched *t, int n, const char *session_id)
{
	TsRepTouched key;

	key.session_id = (char *) session_id;
	return bsearch(&key, t, n, sizeof(TsRepTouched), ts_rep_touched_cmp);
}

/* Kept changes first, by session id, then by row id; dropped ones last. */
static int
ts_rep_change_cmp(const void *a, const void *b)
{
	const TsRepChange *x = a;
	const TsRepChange *y = b;
	int			c;

	if (x->keep != y->keep)
		return x->keep ? -1 : 1;
	if (!x->keep)
		return 0;
	c = strcmp(x->session_id, y->session_id);
	if (c != 0)
		return c;
	return ts_cmp_int64(x->id, y->id);
}

/* The range [*lo, *hi) of kept changes of one session in sorted changes. */
static void
ts_rep_range(TsRepChange *c, int n, const char *session_id, int *lo, int *hi)
{
	int			a = 0,
				b = n;

	while (a < b)
	{
		int			mid = (a + b) / 2;

		if (c[mid].keep && strcmp(c[mid].session_id, session_id) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (a < n && c[a].keep && strcmp(c[a].session_id, session_id) == 0)
		a++;
	*hi = a;
}

/* True when row id is among the sorted changes [lo, hi). */
static bool
ts_rep_in_range(TsRepChange *c, int lo, int hi, int64 id)
{
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (c[mid].id == id)
			return true;
		if (c[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Shared body of the attempts and feedback statement triggers. */
static Datum
ts_rep_child_trigger(FunctionCallInfo fcinfo, bool attempts)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	TsRepPlace	place;
	const TsRepPlace *pl = &place;
	HeapTuple  *oldrows,
			   *newrows;
	int			nold,
				nnew,
				ntouched = 0;
	TsRepChange *olds,
			   *news;
	TsRepTouched *touched;
	TsRepDeltas *d;
	int			idcol;
	bool		isnull;
	Oid			save_userid;
	int			save_sec;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "report rollup trigger must be an AFTER STATEMENT trigger");
	desc = RelationGetDescr(td->tg_relation);
	idcol = SPI_fnumber(desc, "id");
	if (idcol <= 0)
		elog(ERROR, "column \"id\" is missing");
	oldrows = ts_rep_transition_rows(td->tg_oldtable, desc, &nold);
	newrows = ts_rep_transition_rows(td->tg_newtable, desc, &nnew);
	if (nold == 0 && nnew == 0)
		return PointerGetDatum(NULL);

	ts_rep_begin(td->tg_relation, &save_userid, &save_sec);
	ts_rep_place(&place, td->tg_relation,
				 attempts ? "support_troubleshooting_attempts" : "support_troubleshooting_feedback");

	/* the sessions touched, locked and read in id order */
	olds = palloc(sizeof(TsRepChange) * (nold + 1));
	news = palloc(sizeof(TsRepChange) * (nnew + 1));
	touched = palloc(sizeof(TsRepTouched) * (nold + nnew));
	for (int i = 0; i < nold + nnew; i++)
	{
		bool		is_old = i < nold;
		TsRepChange *c = is_old ? &olds[i] : &news[i - nold];

		c->tup = is_old ? oldrows[i] : newrows[i - nold];
		c->session_id = ts_rep_text_col(c->tup, desc, "session_id");
		c->id = DatumGetInt64(heap_getattr(c->tup, idcol, desc, &isnull));
		touched[ntouched].session_id = c->session_id;
		touched[ntouched].exists = false;
		ntouched++;
	}
	qsort(touched, ntouched, sizeof(TsRepTouched), ts_rep_touched_cmp);
	{
		int			k = 0;

		for (int i = 0; i < ntouched; i++)
			if (k == 0 || strcmp(touched[k - 1].session_id, touched[i].session_id) != 0)
				touched[k++] = touched[i];
		ntouched = k;
	}
	for (int i = 0; i < ntouched; i++)
	{
		touched[i].exists = ts_rep_read_session(touched[i].session_id, pl, attempts,
												&touched[i].s, &touched[i].children,
												&touched[i].nchildren);
		CHECK_FOR_INTERRUPTS();
	}

	/*
	 * A row whose (old) session is gone belongs to a cascade that the
	 * sessions trigger already accounted for; an inserted row whose session
	 * is missing counts when the session comes.  UPDATE transition tables
	 * hold old and new rows in the same order.
	 */
	for (int i = 0; i < nold; i++)
		olds[i].keep = ts_rep_find_touched(touched, ntouched, olds[i].session_id)->exists;
	for (int i = 0; i < nnew; i++)
	{
		news[i].keep = ts_rep_find_touched(touched, ntouched, news[i].session_id)->exists;
		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			news[i].keep = news[i].keep && olds[i].keep;
	}
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		for (int i = 0; i < nold; i++)
			olds[i].keep = olds[i].keep && news[i].keep;

	/* the kept changes of each side, grouped by session */
	qsort(olds, nold, sizeof(TsRepChange), ts_rep_change_cmp);
	qsort(news, nnew, sizeof(TsRepChange), ts_rep_change_cmp);

	d = ts_rep_deltas_create();
	for (int t = 0; t < ntouched; t++)
	{
		TsRepTouched *s = &touched[t];
		int			olo,
					ohi,
					nlo,
					nhi;

		if (!s->exists)
			continue;
		ts_rep_range(olds, nold, s->session_id, &olo, &ohi);
		ts_rep_range(news, nnew, s->session_id, &nlo, &nhi);
		if (olo == ohi && nlo == nhi)
			continue;

		if (attempts)
		{
			TsRepAttempt *after = s->children,
					   *before;
			int			nafter = s->nchildren;
			int			nbefore = 0;

			/* before = after - the statement's new rows + its old rows */
			before = palloc(sizeof(TsRepAttempt) * (nafter + ohi - olo + 1));
			for (int i = 0; i < nafter; i++)
				if (!ts_rep_in_range(news, nlo, nhi, after[i].id))
					before[nbefore++] = after[i];
			for (int j = olo; j < ohi; j++)
				ts_rep_attempt_from_tuple(&before[nbefore++], olds[j].tup, desc);
			ts_rep_add_attempts(d, s->s.problem, before, nbefore, -1);
			ts_rep_add_attempts(d, s->s.problem, after, nafter, 1);
		}
		else
		{
			TsRepFeedback *after = s->children,
					   *before;
			int			nafter = s->nchildren;
			int			nbefore = 0;

			before = palloc(sizeof(TsRepFeedback) * (nafter + ohi - olo + 1));
			for (int i = 0; i < nafter; i++)
				if (!ts_rep_in_range(news, nlo, nhi, after[i].id))
					before[nbefore++] = after[i];
			for (int j = olo; j < ohi; j++)
				ts_rep_feedback_from_tuple(&before[nbefore++], olds[j].tup, desc);
			ts_rep_add_feedback(d, s->s.problem, before, nbefore, -1);
			ts_rep_add_feedback(d, s->s.problem, after, nafter, 1);
			if ((nbefore > 0) != (nafter > 0))
			{
				ts_rep_add_session(d, &s->s, nbefore > 0, -1);
				ts_rep_add_session(d, &s->s, nafter > 0, 1);
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
	/* any session of the statement places the rows: they share one shard */
	ts_rep_deltas_write(d, pl->delta, touched[0].session_id);
	ts_rep_end(save_userid, save_sec);
	return PointerGetDatum(NULL);
}

/* AFTER STATEMENT trigger (with transition tables) on support_troubleshooting_attempts. */
Datum
ts_report_attempts_rollup(PG_FUNCTION_ARGS)
{
	return ts_rep_child_trigger(fcinfo, true);
}

/* AFTER STATEMENT trigger (with transition tables) on support_troubleshooting_feedback. */
Datum
ts_report_feedback_rollup(PG_FUNCTION_ARGS)
{
	return ts_rep_child_trigger(fcinfo, false);
}
