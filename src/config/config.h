/*
 * config.h
 *	  Typed, cached access to support_troubleshooting_config for C code.
 */
#ifndef TS_CONFIG_H
#define TS_CONFIG_H

#include "postgres.h"
#include "nodes/pg_list.h"

extern void ts_config_init(void);
extern char *ts_config_get_text(const char *key);
extern int	ts_config_get_int(const char *key);
extern bool ts_config_get_bool(const char *key);
extern List *ts_config_get_list(const char *key);

#endif							/* TS_CONFIG_H */
