/*
 * providers.h
 *	  E-mail and SMS provider settings (support_troubleshooting_providers).
 */
#ifndef TS_PROVIDERS_H
#define TS_PROVIDERS_H

#include "postgres.h"

extern char *ts_resolve_secret(const char *value);

#endif							/* TS_PROVIDERS_H */
