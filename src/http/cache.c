/*
 * cache.c
 *	  The HTTP worker's cache of the realtime document: the last one
 *	  computed (the function's text, as is) and its ETag, answered again
 *	  without a query until troubleshooting.http_cache_ms after it was
 *	  computed.  Only a 200 is kept; a reload drops it.
 */
#include "postgres.h"

#include "http/cache.h"
#include "http/settings.h"

#include "utils/memutils.h"
#include "utils/timestamp.h"

/* The last realtime 200: its document and ETag, and when it was computed. */
typedef struct TsRealtimeCache
{
	bool		valid;
	TimestampTz computed_at;	/* taken just before the query ran */
	char	   *doc;			/* in ts_rt_cache_cxt */
	int			len;
	char		etag[24];
} TsRealtimeCache;

static TsRealtimeCache ts_rt_cache;
static MemoryContext ts_rt_cache_cxt = NULL;

/* Forgets the cached realtime document (at a reload: role, token or TTL may change). */
void
ts_http_cache_drop(void)
{
	ts_rt_cache.valid = false;
	ts_rt_cache.doc = NULL;
	if (ts_rt_cache_cxt != NULL)
		MemoryContextReset(ts_rt_cache_cxt);
}

/* Keeps a realtime 200 (its body and ETag) as computed at computed_at. */
void
ts_http_cache_store(TsHttpReply *reply, TimestampTz computed_at)
{
	ts_http_cache_drop();
	if (ts_rt_cache_cxt == NULL)
		ts_rt_cache_cxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting http cache",
												ALLOCSET_SMALL_SIZES);
	ts_rt_cache.doc = MemoryContextAlloc(ts_rt_cache_cxt, reply->body.len + 1);
	memcpy(ts_rt_cache.doc, reply->body.data, reply->body.len + 1);
	ts_rt_cache.len = reply->body.len;
	memcpy(ts_rt_cache.etag, reply->etag, sizeof(ts_rt_cache.etag));
	ts_rt_cache.computed_at = computed_at;
	ts_rt_cache.valid = true;
}

/* True when the cached realtime document may still answer a request arriving at now. */
static bool
ts_http_cache_fresh(TimestampTz now)
{
	return ts_http_cache_ms > 0 && ts_rt_cache.valid && now >= ts_rt_cache.computed_at &&
		now < TimestampTzPlusMilliseconds(ts_rt_cache.computed_at, ts_http_cache_ms);
}

/*
 * When the cached realtime document may still answer a request arriving at
 * now, sets reply to it (a 200 with its ETag) and returns true.
 */
bool
ts_http_cache_answer(TsHttpReply *reply, TimestampTz now)
{
	if (!ts_http_cache_fresh(now))
		return false;
	reply->status = 200;
	reply->content_type = "application/json";
	memcpy(reply->etag, ts_rt_cache.etag, sizeof(reply->etag));
	appendBinaryStringInfo(&reply->body, ts_rt_cache.doc, ts_rt_cache.len);
	return true;
}
