/*
 * provider_settings.h
 *	  E-mail and SMS provider settings (support_troubleshooting_providers).
 */
#ifndef TS_PROVIDER_SETTINGS_H
#define TS_PROVIDER_SETTINGS_H

#include "postgres.h"

extern char *ts_resolve_secret(const char *value);
extern void ts_rethrow_hiding_statement(MemoryContext cxt) pg_attribute_noreturn();

#endif							/* TS_PROVIDER_SETTINGS_H */
