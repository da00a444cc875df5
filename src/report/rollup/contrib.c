/*
 * contrib.c
 *	  What a session contributes to the hourly report rollups, and the delta
 *	  set that collects signed contributions and writes them to
 *	  ts_report_delta, merged per rollup key.
 *
 *	  A session contributes, by the UTC hour of its started_at, one session
 *	  (with whether it has feedback, and its resolution time when resolved);
 *	  each attempt, by the hour of attempted_at and the session's problem,
 *	  one attempt (a first try when no attempt of the same session and step
 *	  comes before it by (attempted_at, id)); each feedback row, by the hour
 *	  of collected_at, the session's problem and its rating, one response,
 *	  keyed also by the hour of the session's previous feedback (NULL for
 *	  the first), which lets a reader count distinct rated sessions in any
 *	  period.  A change subtracts the old contribution of what it touches and
 *	  adds the new one; equal parts cancel in the set before anything is
 *	  written.
 */
#include "postgres.h"

#include "base/compare.h"
#include "compat.h"
#include "metrics/measures.h"
#include "report/rollup/contrib.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/rel.h"

#define TS_REP_NMEASURES 6

/* The key of one rollup row: kind 's', 'a' or 'f' and its dimensions. */
typedef struct TsRepKey
{
	char		kind;
	TimestampTz bucket;
	const char *problem;
	const char *label;			/* s: problem title, a: step title */
	const char *status;			/* s only */
	int32		num;			/* a: step number, f: rating */
	bool		has_prev;		/* f: the previous feedback's hour is set */
	TimestampTz prev;
} TsRepKey;

/* Measures of one key; durations added and removed (microseconds). */
typedef struct TsRepEntry
{
	TsRepKey	key;
	int64		m[TS_REP_NMEASURES];
	int64		us;
	int			nadd,
				ndel,
				capadd,
				capdel;
	int64	   *add;
	int64	   *del;
} TsRepEntry;

struct TsRepDeltas
{
	HTAB	   *entries;
	MemoryContext cxt;
};

/* NULL-safe string equality. */
static bool
ts_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Hashes a string (NULL included) into h. */
static uint32
ts_hash_str(uint32 h, const char *s)
{
	if (s == NULL)
		return hash_combine(h, 0x9e3779b9);
	return hash_combine(h, hash_bytes((const unsigned char *) s, strlen(s)));
}

/* Hash of a TsRepKey. */
static uint32
ts_rep_key_hash(const void *key, Size keysize)
{
	const TsRepKey *k = key;
	uint32		h = hash_bytes_uint32((uint32) k->kind);

	h = hash_combine(h, hash_bytes_uint32((uint32) k->bucket));
	h = hash_combine(h, hash_bytes_uint32((uint32) (k->bucket >> 32)));
	h = ts_hash_str(h, k->problem);
	h = ts_hash_str(h, k->label);
	h = ts_hash_str(h, k->status);
	h = hash_combine(h, hash_bytes_uint32((uint32) k->num));
	if (k->has_prev)
		h = hash_combine(h, hash_bytes_uint32((uint32) (k->prev ^ (k->prev >> 32))));
	return h;
}

/* Zero when two TsRepKeys are equal. */
static int
ts_rep_key_match(const void *a, const void *b, Size keysize)
{
	const TsRepKey *x = a;
	const TsRepKey *y = b;

	if (x->kind != y->kind || x->bucket != y->bucket || x->num != y->num ||
		x->has_prev != y->has_prev || (x->has_prev && x->prev != y->prev))
		return 1;
	return !(ts_str_eq(x->problem, y->problem) && ts_str_eq(x->label, y->label) &&
			 ts_str_eq(x->status, y->status));
}

/* An empty delta set in a child of the current memory context. */
TsRepDeltas *
ts_rep_deltas_create(void)
{
	TsRepDeltas *d = palloc0(sizeof(TsRepDeltas));
	HASHCTL		ctl;

	d->cxt = AllocSetContextCreate(CurrentMemoryContext, "troubleshooting report deltas",
								   ALLOCSET_SMALL_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(TsRepKey);
	ctl.entrysize = sizeof(TsRepEntry);
	ctl.hash = ts_rep_key_hash;
	ctl.match = ts_rep_key_match;
	ctl.hcxt = d->cxt;
	d->entries = hash_create("troubleshooting report deltas", 64, &ctl,
							 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	return d;
}

/* The entry of key in d, created (with its strings copied) when new. */
static TsRepEntry *
ts_rep_entry(TsRepDeltas *d, TsRepKey *key)
{
	bool		found;
	TsRepEntry *e = hash_search(d->entries, key, HASH_ENTER, &found);

	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(d->cxt);

		/* the stored key must own its strings */
		e->key.problem = key->problem ? pstrdup(key->problem) : NULL;
		e->key.label = key->label ? pstrdup(key->label) : NULL;
		e->key.status = key->status ? pstrdup(key->status) : NULL;
		memset(e->m, 0, sizeof(e->m));
		e->us = 0;
		e->nadd = e->ndel = e->capadd = e->capdel = 0;
		e->add = e->del = NULL;
		MemoryContextSwitchTo(old);
	}
	return e;
}

/* Appends v to a growable array in cxt. */
static void
ts_rep_push(MemoryContext cxt, int64 **arr, int *n, int *cap, int64 v)
{
	if (*n >= *cap)
	{
		*cap = Max(8, *cap * 2);
		*arr = *arr ? repalloc(*arr, sizeof(int64) * *cap)
			: MemoryContextAlloc(cxt, sizeof(int64) * *cap);
	}
	(*arr)[(*n)++] = v;
}

/* Sets *key to kind's key of the hour of `at`, with problem, label and number. */
static void
ts_rep_key(TsRepKey *key, char kind, TimestampTz at, const char *problem, const char *label,
		   int32 num)
{
	memset(key, 0, sizeof(*key));
	key->kind = kind;
	key->bucket = ts_hour_floor(at);
	key->problem = problem;
	key->label = label;
	key->num = num;
}

/* Adds sign times a session's own contribution (rated: it has feedback). */
void
ts_rep_add_session(TsRepDeltas *d, const TsRepSession *s, bool rated, int sign)
{
	TsRepKey	key;
	TsRepEntry *e;

	ts_rep_key(&key, 's', s->started_at, s->problem, s->title, 0);
	key.status = s->status;
	e = ts_rep_entry(d, &key);
	e->m[0] += sign;
	if (rated)
		e->m[1] += sign;
	if (s->has_res)
	{
		e->m[2] += sign;
		e->us += sign * s->res_us;
		if (sign > 0)
			ts_rep_push(d->cxt, &e->add, &e->nadd, &e->capadd, s->res_us);
		else
			ts_rep_push(d->cxt, &e->del, &e->ndel, &e->capdel, s->res_us);
	}
}

/* Orders rows by time, then id. */
static int
ts_time_id_cmp(TimestampTz xat, int64 xid, TimestampTz yat, int64 yid)
{
	int			c = ts_cmp_int64(xat, yat);

	return c != 0 ? c : ts_cmp_int64(xid, yid);
}

/* Attempts in (step, attempted_at, id) order. */
static int
ts_attempt_cmp(const void *a, const void *b)
{
	const TsRepAttempt *x = a;
	const TsRepAttempt *y = b;

	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	return ts_time_id_cmp(x->at, x->id, y->at, y->id);
}

/* Adds sign times the contribution of all n attempts of one session. */
void
ts_rep_add_attempts(TsRepDeltas *d, const char *problem, TsRepAttempt *a, int n, int sign)
{
	if (n > 1)
		qsort(a, n, sizeof(TsRepAttempt), ts_attempt_cmp);
	for (int i = 0; i < n; i++)
	{
		TsRepKey	key;
		TsRepEntry *e;
		bool		first = (i == 0 || a[i - 1].step != a[i].step);

		ts_rep_key(&key, 'a', a[i].at, problem, a[i].title, a[i].step);
		e = ts_rep_entry(d, &key);
		e->m[0] += sign;
		if (a[i].success)
			e->m[1] += sign;
		if (first)
		{
			e->m[2] += sign;
			if (a[i].success)
				e->m[3] += sign;
		}
	}
}

/* Feedback in (collected_at, id) order. */
static int
ts_feedback_cmp(const void *a, const void *b)
{
	const TsRepFeedback *x = a;
	const TsRepFeedback *y = b;

	return ts_time_id_cmp(x->at, x->id, y->at, y->id);
}

/* Adds sign times the contribution of all n feedback rows of one session. */
void
ts_rep_add_feedback(TsRepDeltas *d, const char *problem, TsRepFeedback *f, int n, int sign)
{
	if (n > 1)
		qsort(f, n, sizeof(TsRepFeedback), ts_feedback_cmp);
	for (int i = 0; i < n; i++)
	{
		TsRepKey	key;
		TsRepEntry *e;

		ts_rep_key(&key, 'f', f[i].at, problem, NULL, f[i].rating);
		key.has_prev = (i > 0);
		key.prev = i > 0 ? ts_hour_floor(f[i - 1].at) : 0;
		e = ts_rep_entry(d, &key);
		e->m[0] += sign;
		if (f[i].nps >= 0)
		{
			e->m[1] += sign;
			if (f[i].nps >= 9)
				e->m[2] += sign;
			else if (f[i].nps <= 6)
				e->m[3] += sign;
		}
		if (f[i].helpful >= 0)
		{
			e->m[4] += sign;
			if (f[i].helpful == 1)
				e->m[5] += sign;
		}
	}
}

/* int64 comparator, ascending. */
static int
ts_int64_cmp(const void *a, const void *b)
{
	return ts_cmp_int64(*(const int64 *) a, *(const int64 *) b);
}

/* Removes the values present in both sorted arrays (as multisets). */
static void
ts_cancel_common(int64 *a, int *na, int64 *b, int *nb)
{
	int			i = 0,
				j = 0,
				ka = 0,
				kb = 0;

	qsort(a, *na, sizeof(int64), ts_int64_cmp);
	qsort(b, *nb, sizeof(int64), ts_int64_cmp);
	while (i < *na || j < *nb)
	{
		if (i < *na && j < *nb && a[i] == b[j])
		{
			i++;
			j++;
		}
		else if (j >= *nb || (i < *na && a[i] < b[j]))
			a[ka++] = a[i++];
		else
			b[kb++] = b[j++];
	}
	*na = ka;
	*nb = kb;
}

/* A bigint[] of n values, or NULL when n is 0. */
static Datum
ts_int8_array(const int64 *v, int n, bool *isnull)
{
	Datum	   *elems;

	*isnull = (n == 0);
	if (n == 0)
		return (Datum) 0;
	elems = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(v[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Text datum of s, or NULL. */
static Datum
ts_text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * Writes every non-zero entry of d as a row of relation relid
 * (ts_report_delta, or on Citus its shard beside the changed rows), with
 * the id of a session they came from (NULL for none).
 */
void
ts_rep_deltas_write(TsRepDeltas *d, Oid relid, const char *session_id)
{
	HASH_SEQ_STATUS seq;
	TsRepEntry *e;
	Relation	rel = NULL;

	hash_seq_init(&seq, d->entries);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[17];	/* the columns of ts_report_delta */
		bool		nulls[17] = {0};
		bool		zero = (e->us == 0);
		HeapTuple	tup;

		ts_cancel_common(e->add, &e->nadd, e->del, &e->ndel);
		for (int i = 0; i < TS_REP_NMEASURES; i++)
			zero = zero && e->m[i] == 0;
		if (zero && e->nadd == 0 && e->ndel == 0)
			continue;
		if (rel == NULL)
			rel = table_open(relid, RowExclusiveLock);
		values[0] = CharGetDatum(e->key.kind);
		values[1] = TimestampTzGetDatum(e->key.bucket);
		values[2] = ts_text_or_null(e->key.problem, &nulls[2]);
		values[3] = ts_text_or_null(e->key.label, &nulls[3]);
		values[4] = ts_text_or_null(e->key.status, &nulls[4]);
		values[5] = Int32GetDatum(e->key.num);
		values[6] = TimestampTzGetDatum(e->key.prev);
		nulls[6] = !e->key.has_prev;
		for (int i = 0; i < TS_REP_NMEASURES; i++)
			values[7 + i] = Int64GetDatum(e->m[i]);
		values[13] = Int64GetDatum(e->us);
		values[14] = ts_int8_array(e->add, e->nadd, &nulls[14]);
		values[15] = ts_int8_array(e->del, e->ndel, &nulls[15]);
		values[16] = ts_text_or_null(session_id, &nulls[16]);
		tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
		simple_heap_insert(rel, tup);
		heap_freetuple(tup);
	}
	if (rel)
		table_close(rel, RowExclusiveLock);
	MemoryContextDelete(d->cxt);
	pfree(d);
}

/* A column's attribute number by name, failing loudly when it is gone. */
static int
ts_rep_attnum(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "column \"%s\" is missing", name);
	return attnum;
}

/* A text column as a C string, or NULL. */
char *
ts_rep_text_col(HeapTuple tup, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		v = heap_getattr(tup, ts_rep_attnum(desc, name), desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(v);
}

/* A column's Datum; *isnull says whether it is NULL. */
static Datum
ts_rep_col(HeapTuple tup, TupleDesc desc, const char *name, bool *isnull)
{
	return heap_getattr(tup, ts_rep_attnum(desc, name), desc, isnull);
}

/* Reads a session row (any tuple with the session columns). */
void
ts_rep_session_from_tuple(TsRepSession *s, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		v;

	s->session_id = ts_rep_text_col(tup, desc, "session_id");
	s->started_at = DatumGetTimestampTz(ts_rep_col(tup, desc, "started_at", &isnull));
	s->problem = ts_rep_text_col(tup, desc, "detected_problem_id");
	s->title = ts_rep_text_col(tup, desc, "detected_problem_title");
	s->status = ts_rep_text_col(tup, desc, "status");
	if (s->status == NULL)
		s->status = "";
	s->has_res = false;
	s->res_us = 0;
	v = ts_rep_col(tup, desc, "resolved_at", &isnull);
	if (!isnull && strcmp(s->status, "resolved") == 0)
	{
		s->has_res = true;
		s->res_us = DatumGetTimestampTz(v) - s->started_at;
	}
}

/* Reads an attempt row. */
void
ts_rep_attempt_from_tuple(TsRepAttempt *a, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;

	a->id = DatumGetInt64(ts_rep_col(tup, desc, "id", &isnull));
	a->step = DatumGetInt32(ts_rep_col(tup, desc, "step_number", &isnull));
	a->title = ts_rep_text_col(tup, desc, "step_title");
	a->success = DatumGetBool(ts_rep_col(tup, desc, "success", &isnull)) && !isnull;
	a->at = DatumGetTimestampTz(ts_rep_col(tup, desc, "attempted_at", &isnull));
}

/* Reads a feedback row. */
void
ts_rep_feedback_from_tuple(TsRepFeedback *f, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		v;

	f->id = DatumGetInt64(ts_rep_col(tup, desc, "id", &isnull));
	f->at = DatumGetTimestampTz(ts_rep_col(tup, desc, "collected_at", &isnull));
	f->rating = DatumGetInt16(ts_rep_col(tup, desc, "rating", &isnull));
	v = ts_rep_col(tup, desc, "nps_score", &isnull);
	f->nps = isnull ? -1 : DatumGetInt16(v);
	v = ts_rep_col(tup, desc, "was_helpful", &isnull);
	f->helpful = isnull ? -1 : (DatumGetBool(v) ? 1 : 0);
}

PG_FUNCTION_INFO_V1(ts_report_durations_merge);

/* The int8 elements of an array argument (none for NULL). */
static int64 *
ts_int8_elems(FunctionCallInfo fcinfo, int argno, int *n)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int64	   *v;

	*n = 0;
	if (PG_ARGISNULL(argno))
		return NULL;
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, n);
	v = palloc(sizeof(int64) * (*n + 1));
	for (int i = 0; i < *n; i++)
		v[i] = nulls[i] ? 0 : DatumGetInt64(elems[i]);
	return v;
}

/*
 * ts_report_durations_merge(sorted, added, removed): the sorted multiset
 * sorted + added - removed (a removed value that is not there is ignored).
 */
Datum
ts_report_durations_merge(PG_FUNCTION_ARGS)
{
	int			nold,
				nadd,
				ndel,
				n,
				k = 0;
	int64	   *old = ts_int8_elems(fcinfo, 0, &nold);
	int64	   *add = ts_int8_elems(fcinfo, 1, &nadd);
	int64	   *del = ts_int8_elems(fcinfo, 2, &ndel);
	int64	   *all;
	Datum	   *out;

	n = nold + nadd;
	all = palloc(sizeof(int64) * (n + 1));
	if (nold)
		memcpy(all, old, sizeof(int64) * nold);
	if (nadd)
		memcpy(all + nold, add, sizeof(int64) * nadd);
	qsort(all, n, sizeof(int64), ts_int64_cmp);
	if (ndel)
		qsort(del, ndel, sizeof(int64), ts_int64_cmp);
	out = palloc(sizeof(Datum) * (n + 1));
	for (int i = 0, j = 0; i < n; i++)
	{
		while (j < ndel && del[j] < all[i])
			j++;
		if (j < ndel && del[j] == all[i])
		{
			j++;
			continue;
		}
		out[k++] = Int64GetDatum(all[i]);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(out, k, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
