/*
 * compat.h
 *	  Every PostgreSQL version difference the extension cares about, in one
 *	  place.  Supported: PostgreSQL 13 to 17.
 */
#ifndef TS_COMPAT_H
#define TS_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000 || PG_VERSION_NUM >= 180000
#error "troubleshooting supports PostgreSQL 13 to 17"
#endif

#include "utils/guc.h"

/* MarkGUCPrefixReserved appeared in 15; older versions only warn. */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* Shared memory requests moved to shmem_request_hook in 15. */
#if PG_VERSION_NUM >= 150000
#define TS_HAVE_SHMEM_REQUEST_HOOK 1
#endif

/* ProcessUtility_hook gained readOnlyTree in 14. */
#if PG_VERSION_NUM >= 140000
#define TS_UTILITY_HOOK_PARAMS PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv, \
	DestReceiver *dest, QueryCompletion *qc
#define TS_UTILITY_HOOK_ARGS pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#else
#define TS_UTILITY_HOOK_PARAMS PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv, \
	DestReceiver *dest, QueryCompletion *qc
#define TS_UTILITY_HOOK_ARGS pstmt, queryString, context, params, queryEnv, dest, qc
#endif

/* The per-kind owner checks became object_ownercheck in 16. */
#if PG_VERSION_NUM >= 160000
#define ts_database_ownercheck(dboid, roleid) object_ownercheck(DatabaseRelationId, (dboid), (roleid))
#define ts_extension_ownercheck(extoid, roleid) object_ownercheck(ExtensionRelationId, (extoid), (roleid))
#else
#define ts_database_ownercheck(dboid, roleid) pg_database_ownercheck((dboid), (roleid))
#define ts_extension_ownercheck(extoid, roleid) pg_extension_ownercheck((extoid), (roleid))
#endif

/* varatt.h was split out of postgres.h in 16. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* int64_to_numeric and int64_div_fast_to_numeric appeared in 14. */
#if PG_VERSION_NUM < 140000
#include "utils/numeric.h"
#include "utils/fmgrprotos.h"
#define int64_to_numeric(v) DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(v)))
static inline Numeric
int64_div_fast_to_numeric(int64 val, int log10val2)
{
	char		buf[64];

	snprintf(buf, sizeof(buf), INT64_FORMAT "e-%d", val, log10val2);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}
#endif

/* A uniform random double in [0, 1): pg_prng appeared in 15. */
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#define ts_random_double() pg_prng_double(&pg_global_prng_state)
#else
#define ts_random_double() ((double) random() / ((double) RAND_MAX + 1.0))
#endif

/* SPI_commit starts the next transaction itself from 15 on. */
#if PG_VERSION_NUM >= 150000
#define ts_spi_commit() SPI_commit()
#else
#define ts_spi_commit() (SPI_commit(), SPI_start_transaction())
#endif

/* CreateWaitEventSet takes a resource owner instead of a context from 17 on. */
#if PG_VERSION_NUM >= 170000
#define ts_create_wait_event_set(cxt, nevents) CreateWaitEventSet(NULL, (nevents))
#else
#define ts_create_wait_event_set(cxt, nevents) CreateWaitEventSet((cxt), (nevents))
#endif

#endif							/* TS_COMPAT_H */
