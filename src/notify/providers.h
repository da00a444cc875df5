/*
 * providers.h
 *	  E-mail and SMS provider settings (support_troubleshooting_providers).
 */
#ifndef TS_PROVIDERS_H
#define TS_PROVIDERS_H

#include "postgres.h"

extern char *ts_resolve_secret(const char *value);
extern void ts_rethrow_hiding_statement(MemoryContext cxt) pg_attribute_noreturn();

#endif							/* TS_PROVIDERS_H */
