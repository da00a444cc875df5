/*
 * utility.c
 *	  A ProcessUtility hook, installed in every backend of a server that
 *	  preloads the library.  CREATE EXTENSION troubleshooting (and DROP
 *	  EXTENSION) asks the launcher, at commit, to look at the database
 *	  again, so its workers start (or leave) within a second.  The commands
 *	  PostgreSQL refuses while anyone is connected to a database (DROP
 *	  DATABASE, ALTER DATABASE ... RENAME TO or SET TABLESPACE, CREATE
 *	  DATABASE ... TEMPLATE) first ask the launcher to take that database's
 *	  workers away and wait for them to leave (only when the role running
 *	  it owns the database, or is a superuser: anyone else's attempt fails
 *	  anyway and must not disturb the workers); a command that fails gives
 *	  the database its workers back.  DROP EXTENSION first takes the
 *	  extension's lock, which the workers' units of work share, so it never
 *	  deadlocks with them; on a Citus coordinator it then drops the
 *	  extension's distributed and reference tables (citus/node.c).
 */
#include "postgres.h"

#include "base/extschema.h"
#include "citus/node.h"
#include "compat.h"
#include "worker/registry.h"
#include "worker/utility.h"

#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/acl.h"

static ProcessUtility_hook_type prev_utility_hook = NULL;

/* True when a DROP EXTENSION statement names troubleshooting. */
static bool
ts_drops_extension(DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
		if (strcmp(strVal(lfirst(lc)), "troubleshooting") == 0)
			return true;
	return false;
}

/*
 * Before DROP EXTENSION troubleshooting does anything (the Citus step drops
 * tables first), takes the extension's lock that DROP EXTENSION takes: the
 * workers' units of work hold it in share mode, so the drop waits for them
 * without holding any table they use.  Only for the extension's owner (or a
 * superuser): anyone else's DROP fails and must not make the workers wait.
 */
static void
ts_lock_extension_for_drop(void)
{
	Oid			ext = get_extension_oid(TS_EXTENSION_NAME, true);

	if (OidIsValid(ext) && ts_extension_ownercheck(ext, GetUserId()))
		LockDatabaseObject(ExtensionRelationId, ext, 0, AccessExclusiveLock);
}

/*
 * The database a statement needs without connections (and whether it is
 * gone once the statement succeeds), or InvalidOid.
 */
static Oid
ts_database_to_clear(Node *stmt, bool *dropped)
{
	ListCell   *lc;

	*dropped = false;
	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			*dropped = true;
			return get_database_oid(((DropdbStmt *) stmt)->dbname, true);
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				return get_database_oid(((RenameStmt *) stmt)->subname, true);
			return InvalidOid;
		case T_AlterDatabaseStmt:
			foreach(lc, ((AlterDatabaseStmt *) stmt)->options)
				if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
					return get_database_oid(((AlterDatabaseStmt *) stmt)->dbname, true);
			return InvalidOid;
		case T_CreatedbStmt:
			foreach(lc, ((CreatedbStmt *) stmt)->options)
				if (strcmp(((DefElem *) lfirst(lc))->defname, "template") == 0)
					return get_database_oid(defGetString((DefElem *) lfirst(lc)), true);
			return InvalidOid;
		default:
			return InvalidOid;
	}
}

/* The hook: see the file header. */
static void
ts_utility_hook(TS_UTILITY_HOOK_PARAMS)
{
	Node	   *stmt = pstmt->utilityStmt;
	bool		is_drop;
	Oid			dboid = ts_database_to_clear(stmt, &is_drop);
	volatile bool dropped = is_drop;

	if ((IsA(stmt, CreateExtensionStmt) &&
		 strcmp(((CreateExtensionStmt *) stmt)->extname, "troubleshooting") == 0) ||
		(IsA(stmt, DropStmt) && ts_drops_extension((DropStmt *) stmt)))
		ts_registry_probe_at_commit();
	/* on a Citus coordinator, the shards go first (they carry our triggers) */
	if (IsA(stmt, DropStmt) && ts_drops_extension((DropStmt *) stmt))
	{
		ts_lock_extension_for_drop();
		ts_citus_release();
	}

	/*
	 * only for a role the command can succeed for (the database's owner or
	 * a superuser): anyone else's attempt must not send the workers away
	 */
	if (OidIsValid(dboid) && !ts_database_ownercheck(dboid, GetUserId()))
		dboid = InvalidOid;
	if (OidIsValid(dboid))
		ts_registry_pause(dboid);
	PG_TRY();
	{
		if (prev_utility_hook)
			prev_utility_hook(TS_UTILITY_HOOK_ARGS);
		else
			standard_ProcessUtility(TS_UTILITY_HOOK_ARGS);
	}
	PG_CATCH();
	{
		if (OidIsValid(dboid))
			ts_registry_unpause(dboid);
		PG_RE_THROW();
	}
	PG_END_TRY();
	/* a dropped database is forgotten by the launcher; the others get their workers back */
	if (OidIsValid(dboid) && !dropped)
		ts_registry_unpause(dboid);
}

/* Installs the hook (from _PG_init when preloaded). */
void
ts_utility_hook_install(void)
{
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = ts_utility_hook;
}
