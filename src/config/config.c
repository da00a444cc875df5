/*
 * config.c
 *	  Reading the central configuration (support_troubleshooting_config):
 *	  the per-backend cache behind the typed getters and the SQL function
 *	  get_troubleshooting_config.  Writes, and their checks, are in write.c.
 *
 * The cache is dropped through a relcache invalidation that the config
 * table's row trigger (write.c) sends: other backends see it when the writer
 * commits, the writer itself at its next command.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "compat.h"
#include "config/config.h"
#include "config/normalize.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* A key of the config table with its effective value, as cached. */
typedef struct TsConfigEntry
{
	char	   *key;
	char	   *value;			/* effective value: stored, else default */
	char	   *type;
} TsConfigEntry;

static MemoryContext ts_config_context = NULL;
static TsConfigEntry *ts_config_entries = NULL;
static int	ts_config_nentries = 0;
static bool ts_config_valid = false;
static Oid	ts_config_relid = InvalidOid;
static uint64 ts_config_generation = 0;

/* Top transaction that wrote the config table; it reads through the cache. */
static TransactionId ts_config_writer_xid = InvalidTransactionId;

PG_FUNCTION_INFO_V1(get_troubleshooting_config);

/* Drops the cache when the config table (or every relation) is invalidated. */
static void
ts_config_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ts_config_relid)
	{
		ts_config_valid = false;
		ts_config_generation++;
	}
}

/* Registers the cache's invalidation callback; called once from _PG_init. */
void
ts_config_init(void)
{
	CacheRegisterRelcacheCallback(ts_config_relcache_cb, (Datum) 0);
}

/* Reports a key that the config table does not know. */
void
ts_config_unknown_key(const char *key)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("unknown configuration key \"%s\"", key),
			 errhint("SELECT config_key FROM support_troubleshooting_config lists the keys.")));
}

/*
 * Notes that this transaction wrote the config table: until it ends, its
 * reads do not fill the cache.
 */
void
ts_config_note_write(void)
{
	ts_config_writer_xid = GetTopTransactionId();
}

/* Reloads the whole table into the cache. */
static void
ts_config_fill(void)
{
	Oid			relid = ts_extension_relid(TS_CONFIG_TABLE, false);
	uint64		generation;
	char	   *query;
	MemoryContext oldcxt;
	int			ret;

	ts_config_relid = relid;
	generation = ts_config_generation;

	if (ts_config_context == NULL)
		ts_config_context = AllocSetContextCreate(CacheMemoryContext,
												  "troubleshooting config cache",
												  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(ts_config_context);
	ts_config_entries = NULL;
	ts_config_nentries = 0;

	query = psprintf("SELECT config_key, coalesce(config_value, default_value), value_type FROM %s",
					 ts_qualified_name(get_rel_namespace(relid), TS_CONFIG_TABLE));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(query, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", TS_CONFIG_TABLE, SPI_result_code_string(ret));

	oldcxt = MemoryContextSwitchTo(ts_config_context);
	ts_config_entries = palloc0(sizeof(TsConfigEntry) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *value = SPI_getvalue(tup, desc, 2);

		ts_config_entries[i].key = SPI_getvalue(tup, desc, 1);
		ts_config_entries[i].value = value ? value : pstrdup("");
		ts_config_entries[i].type = SPI_getvalue(tup, desc, 3);
	}
	ts_config_nentries = (int) SPI_processed;
	MemoryContextSwitchTo(oldcxt);
	SPI_finish();

	/* An invalidation that arrived while reading means the copy may be old. */
	ts_config_valid = (generation == ts_config_generation);
}

/* Finds a key's cache entry, refreshing the cache first if needed. */
static const TsConfigEntry *
ts_config_lookup(const char *key, bool missing_ok)
{
	AcceptInvalidationMessages();
	if (!ts_config_valid)
		ts_config_fill();

	/*
	 * A transaction that changed the table may read it under an older
	 * snapshot later in the same statement; keep nothing it reads.
	 */
	if (TransactionIdIsValid(ts_config_writer_xid) &&
		ts_config_writer_xid == GetTopTransactionIdIfAny())
		ts_config_valid = false;
	for (int i = 0; i < ts_config_nentries; i++)
		if (strcmp(ts_config_entries[i].key, key) == 0)
			return &ts_config_entries[i];
	if (!missing_ok)
		ts_config_unknown_key(key);
	return NULL;
}

/* Returns the effective value of a key as text (palloc'd). */
char *
ts_config_get_text(const char *key)
{
	return pstrdup(ts_config_lookup(key, false)->value);
}

/* Reports a key whose value is not of the type its getter reads. */
static pg_attribute_noreturn() void
ts_config_not_a(const char *key, const char *what)
{
	elog(ERROR, "configuration key \"%s\" is not %s", key, what);
}

/* Returns the effective value of a key, which must be of the given type. */
static const char *
ts_config_typed(const char *key, const char *type, const char *what)
{
	const TsConfigEntry *e = ts_config_lookup(key, false);

	if (strcmp(e->type, type) != 0)
		ts_config_not_a(key, what);
	return e->value;
}

/* Returns the effective value of an integer key. */
int
ts_config_get_int(const char *key)
{
	int			n = 0;

	if (!ts_parse_count(ts_config_typed(key, "integer", "an integer"), &n))
		ts_config_not_a(key, "an integer");
	return n;
}

/* Returns the effective value of a boolean key. */
bool
ts_config_get_bool(const char *key)
{
	bool		b = false;

	if (!parse_bool(ts_config_typed(key, "boolean", "a boolean"), &b))
		ts_config_not_a(key, "a boolean");
	return b;
}

/* Returns the effective value of a list key as a List of palloc'd strings. */
List *
ts_config_get_list(const char *key)
{
	List	   *result = NIL;
	char	   *copy = pstrdup(ts_config_typed(key, "channel_list", "a list"));
	char	   *tok;
	char	   *save;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		result = lappend(result, pstrdup(tok));
	return result;
}

/* get_troubleshooting_config(key): the effective value of a key. */
Datum
get_troubleshooting_config(PG_FUNCTION_ARGS)
{
	char	   *key = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(ts_config_lookup(key, false)->value));
}
