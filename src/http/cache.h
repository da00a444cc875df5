/*
 * cache.h
 *	  The HTTP worker's cache of the realtime document (cache.c).
 */
#ifndef TS_HTTP_CACHE_H
#define TS_HTTP_CACHE_H

#include "http/reply.h"

#include "datatype/timestamp.h"

extern void ts_http_cache_drop(void);
extern void ts_http_cache_store(TsHttpReply *reply, TimestampTz computed_at);
extern bool ts_http_cache_answer(TsHttpReply *reply, TimestampTz now);

#endif							/* TS_HTTP_CACHE_H */
