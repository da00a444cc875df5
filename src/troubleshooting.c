/*
 * troubleshooting.c
 *	  Module entry point: _PG_init registers settings, caches and (when the
 *	  library is preloaded) shared memory, the utility hook, the launcher
 *	  (which starts each database's maintenance and dispatcher workers) and
 *	  the HTTP worker.
 */
#include "postgres.h"

#include "compat.h"
#include "config/config.h"
#include "http/http.h"
#include "notify/send/settings.h"
#include "notify/send/wake.h"
#include "report/report.h"
#include "worker/launcher.h"
#include "worker/maintenance.h"
#include "worker/registry.h"
#include "worker/utility.h"

#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Sets up the module in every process that loads it. */
void
_PG_init(void)
{
	/* Backend-local state works whether or not the library is preloaded. */
	ts_config_init();

	ts_launcher_define_gucs(process_shared_preload_libraries_in_progress);
	ts_maintenance_define_gucs();
	ts_dispatcher_define_gucs();
	ts_http_define_gucs(process_shared_preload_libraries_in_progress);
	ts_report_define_gucs();
	MarkGUCPrefixReserved("troubleshooting");

	if (!process_shared_preload_libraries_in_progress)
		return;

	/* pg_upgrade starts the server in binary-upgrade mode: no workers then. */
	if (IsBinaryUpgrade)
		return;
	ts_dispatcher_shmem_init(ts_max_databases);
	ts_registry_shmem_init(ts_max_databases);
	ts_utility_hook_install();
	ts_launcher_register();
	ts_http_register();
}
