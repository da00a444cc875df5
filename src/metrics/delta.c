/*
 * delta.c
 *	  What each change to a session, attempt or feedback row does to the
 *	  hourly partial aggregates: the row's old contribution subtracted, its
 *	  new one added, written as rows of ts_metrics_delta.
 *	  refresh_troubleshooting_metrics() (SQL, in the install script) folds
 *	  them into the rollups.  The row triggers (triggers.c) write one row
 *	  change's deltas; bulk deletes by retention, which bypass the triggers,
 *	  merge the same deltas over a whole batch (TsDeltaBatch) and write one
 *	  row per hour.
 */
#include "postgres.h"

#include "compat.h"
#include "metrics/delta.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "executor/spi.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* Returns the delta of (bucket, problem) in set, adding it if new. */
static TsMeasures *
ts_delta_slot(TsDeltaSet *set, TimestampTz bucket, const char *problem)
{
	TsDelta    *d;

	for (int i = 0; i < set->n; i++)
	{
		d = &set->items[i];
		if (d->bucket == bucket &&
			((d->problem == NULL && problem == NULL) ||
			 (d->problem && problem && strcmp(d->problem, problem) == 0)))
			return &d->d;
	}
	if (set->n >= TS_MAX_DELTAS)
		elog(ERROR, "too many metric deltas for one row change");
	d = &set->items[set->n++];
	memset(d, 0, sizeof(*d));
	d->bucket = bucket;
	d->problem = problem ? pstrdup(problem) : NULL;
	return &d->d;
}

/* Returns a column's value by name; *isnull says whether it is NULL. */
static Datum
ts_col(HeapTuple tuple, TupleDesc desc, const char *name, bool *isnull)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "column \"%s\" is missing", name);
	return heap_getattr(tuple, attnum, desc, isnull);
}

/*
 * Returns the delta (with no problem) of the hour of a row's timestamp
 * column, adding it if new; NULL when the column is NULL.
 */
static TsMeasures *
ts_col_hour_slot(TsDeltaSet *set, HeapTuple tup, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		v = ts_col(tup, desc, name, &isnull);

	if (isnull)
		return NULL;
	return ts_delta_slot(set, ts_hour_floor(DatumGetTimestampTz(v)), NULL);
}

/* Adds sign times a session row's contribution to set. */
static void
ts_session_contrib(TsDeltaSet *set, HeapTuple tup, TupleDesc desc, int sign)
{
	bool		isnull;
	char	   *status;
	char	   *problem = NULL;
	TimestampTz started;
	TsMeasures *m;
	Datum		v;

	started = DatumGetTimestampTz(ts_col(tup, desc, "started_at", &isnull));
	if (isnull)
		return;
	v = ts_col(tup, desc, "status", &isnull);
	status = isnull ? "" : TextDatumGetCString(v);
	v = ts_col(tup, desc, "detected_problem_id", &isnull);
	if (!isnull)
		problem = TextDatumGetCString(v);

	m = ts_delta_slot(set, ts_hour_floor(started), problem);
	m->m[M_SESSIONS] += sign;
	if (strcmp(status, "resolved") == 0)
	{
		m->m[M_RESOLVED] += sign;
		v = ts_col(tup, desc, "resolved_at", &isnull);
		if (!isnull)
		{
			m->m[M_RES_N] += sign;
			m->m[M_RES_US] += sign * (DatumGetTimestampTz(v) - started);
		}
	}
	else if (strcmp(status, "escalated") == 0)
		m->m[M_ESCALATED] += sign;
	else if (strcmp(status, "abandoned") == 0 || strcmp(status, "timed_out") == 0)
		m->m[M_ABANDONED] += sign;

	v = ts_col(tup, desc, "resolved_at", &isnull);
	if (!isnull)
	{
		m = ts_delta_slot(set, ts_hour_floor(DatumGetTimestampTz(v)), NULL);
		m->m[M_RESOLVED_AT_N] += sign;
		m->m[M_RESOLVED_AT_US] += sign * (DatumGetTimestampTz(v) - started);
	}
	m = ts_col_hour_slot(set, tup, desc, "escalated_at");
	if (m != NULL)
		m->m[M_ESCALATED_AT_N] += sign;
}

/* Adds sign times an attempt row's measures to m (the delta of its hour). */
static void
ts_attempt_measures(TsMeasures *m, HeapTuple tup, TupleDesc desc, int sign)
{
	bool		isnull;
	bool		success = DatumGetBool(ts_col(tup, desc, "success", &isnull)) && !isnull;

	m->m[M_ATTEMPTS] += sign;
	if (success)
		m->m[M_ATTEMPTS_OK] += sign;
}

/* Adds sign times a feedback row's measures to m (the delta of its hour). */
static void
ts_feedback_measures(TsMeasures *m, HeapTuple tup, TupleDesc desc, int sign)
{
	bool		isnull;
	Datum		v;

	m->m[M_FEEDBACK] += sign;
	v = ts_col(tup, desc, "rating", &isnull);
	if (!isnull)
		m->m[M_RATING_SUM] += sign * DatumGetInt16(v);
	v = ts_col(tup, desc, "nps_score", &isnull);
	if (!isnull)
	{
		int16		nps = DatumGetInt16(v);

		m->m[M_NPS_N] += sign;
		if (nps >= 9)
			m->m[M_PROMOTERS] += sign;
		else if (nps <= 6)
			m->m[M_DETRACTORS] += sign;
	}
}

/* True if every measure of m is zero. */
static bool
ts_measures_zero(const TsMeasures *m)
{
	for (int i = 0; i < TS_NMEASURES; i++)
		if (m->m[i] != 0)
			return false;
	return true;
}

/*
 * Appends the n non-zero deltas of items to relation relid (ts_metrics_delta,
 * or on Citus its shard beside the changed row), with the session id (a
 * text datum, or 0 for none) of the row they came from.
 */
void
ts_delta_write(const TsDelta *items, int n, Oid relid, Datum session_id)
{
	Relation	rel = NULL;

	for (int i = 0; i < n; i++)
	{
		const TsDelta *d = &items[i];
		Datum		values[3 + TS_NMEASURES];
		bool		nulls[3 + TS_NMEASURES] = {0};
		HeapTuple	tup;

		if (ts_measures_zero(&d->d))
			continue;
		if (rel == NULL)
			rel = table_open(relid, RowExclusiveLock);
		values[0] = TimestampTzGetDatum(d->bucket);
		values[1] = d->problem ? CStringGetTextDatum(d->problem) : (Datum) 0;
		nulls[1] = (d->problem == NULL);
		for (int m = 0; m < TS_NMEASURES; m++)
		{
			if (m == M_RES_US || m == M_RESOLVED_AT_US)
				values[2 + m] = Int64GetDatum(d->d.m[m]);
			else
			{
				if (d->d.m[m] > PG_INT32_MAX || d->d.m[m] < PG_INT32_MIN)
					elog(ERROR, "metric delta out of range");
				values[2 + m] = Int32GetDatum((int32) d->d.m[m]);
			}
		}
		values[2 + TS_NMEASURES] = session_id;
		nulls[2 + TS_NMEASURES] = session_id == (Datum) 0;
		tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
		simple_heap_insert(rel, tup);
		heap_freetuple(tup);
	}
	if (rel)
		table_close(rel, RowExclusiveLock);
}

/* Adds sign times the contribution of a row of the given kind to set. */
void
ts_delta_contrib(TsDeltaSet *set, TsRowKind kind, HeapTuple tup, TupleDesc desc, int sign)
{
	TsMeasures *m;

	if (kind == TS_ROW_SESSION)
	{
		ts_session_contrib(set, tup, desc, sign);
		return;
	}
	/* attempts and feedback count in the hour of their time, with no problem */
	m = ts_col_hour_slot(set, tup, desc, kind == TS_ROW_ATTEMPT ? "attempted_at" : "collected_at");
	if (m == NULL)
		return;
	if (kind == TS_ROW_ATTEMPT)
		ts_attempt_measures(m, tup, desc, sign);
	else
		ts_feedback_measures(m, tup, desc, sign);
}

/* Deltas of many row changes, merged per (hour, problem) before writing. */
struct TsDeltaBatch
{
	HTAB	   *deltas;			/* TsDeltaKey -> TsDelta */
};

/* Hash key of a batch entry: the problem text lives as long as the batch. */
typedef struct TsDeltaKey
{
	TimestampTz bucket;
	const char *problem;
} TsDeltaKey;

/* Hashes a TsDeltaKey by hour and problem text. */
static uint32
ts_delta_key_hash(const void *key, Size keysize)
{
	const TsDeltaKey *k = key;
	uint32		h = hash_bytes_uint32((uint32) k->bucket) ^ hash_bytes_uint32((uint32) (k->bucket >> 32));

	if (k->problem)
		h = hash_combine(h, hash_bytes((const unsigned char *) k->problem, strlen(k->problem)));
	return h;
}

/* Zero when two TsDeltaKeys are equal. */
static int
ts_delta_key_match(const void *a, const void *b, Size keysize)
{
	const TsDeltaKey *x = a;
	const TsDeltaKey *y = b;

	if (x->bucket != y->bucket)
		return 1;
	if (x->problem == NULL || y->problem == NULL)
		return x->problem != y->problem;
	return strcmp(x->problem, y->problem);
}

/* An empty batch in the current memory context. */
TsDeltaBatch *
ts_delta_batch_create(void)
{
	TsDeltaBatch *batch = palloc0(sizeof(TsDeltaBatch));
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(TsDeltaKey);
	ctl.entrysize = sizeof(TsDelta);
	ctl.hash = ts_delta_key_hash;
	ctl.match = ts_delta_key_match;
	ctl.hcxt = CurrentMemoryContext;
	batch->deltas = hash_create("troubleshooting metric deltas", 1024, &ctl,
								HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	return batch;
}

/* Adds sign times the contribution of a row of the given kind to batch. */
void
ts_delta_batch_add(TsDeltaBatch *batch, TsRowKind kind, HeapTuple tup, TupleDesc desc, int sign)
{
	TsDeltaSet	set;

	set.n = 0;
	ts_delta_contrib(&set, kind, tup, desc, sign);
	for (int i = 0; i < set.n; i++)
	{
		TsDeltaKey	key = {set.items[i].bucket, set.items[i].problem};
		bool		found;
		TsDelta    *d = hash_search(batch->deltas, &key, HASH_ENTER, &found);

		if (!found)
			memset(&d->d, 0, sizeof(d->d));
		ts_measures_add(&d->d, &set.items[i].d);
	}
}

/* Writes the merged deltas of batch, one row per (hour, problem). */
void
ts_delta_batch_write(TsDeltaBatch *batch, Oid nspid)
{
	long		n = hash_get_num_entries(batch->deltas);
	TsDelta    *items;
	TsDelta    *d;
	HASH_SEQ_STATUS seq;
	int			i = 0;

	if (n == 0)
		return;
	items = palloc(n * sizeof(TsDelta));
	hash_seq_init(&seq, batch->deltas);
	while ((d = hash_seq_search(&seq)) != NULL)
		items[i++] = *d;
	ts_delta_write(items, i, get_relname_relid("ts_metrics_delta", nspid), (Datum) 0);
	pfree(items);
}
