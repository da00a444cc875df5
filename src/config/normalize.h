/*
 * normalize.h
 *	  Checking a configuration value against its key's type and giving its
 *	  canonical spelling.
 */
#ifndef TS_CONFIG_NORMALIZE_H
#define TS_CONFIG_NORMALIZE_H

#include "postgres.h"

extern char *ts_config_normalize(const char *key, const char *type, const char *value);
extern bool ts_parse_count(const char *value, int *result);

#endif							/* TS_CONFIG_NORMALIZE_H */
