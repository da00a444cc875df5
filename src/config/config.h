/*
 * config.h
 *	  Typed, cached access to support_troubleshooting_config for C code,
 *	  and what the config table's writers (write.c) tell the cache.
 */
#ifndef TS_CONFIG_H
#define TS_CONFIG_H

#include "postgres.h"
#include "nodes/pg_list.h"

#define TS_CONFIG_TABLE "support_troubleshooting_config"

extern void ts_config_init(void);
extern char *ts_config_get_text(const char *key);
extern int	ts_config_get_int(const char *key);
extern bool ts_config_get_bool(const char *key);
extern List *ts_config_get_list(const char *key);
extern void ts_config_unknown_key(const char *key) pg_attribute_noreturn();
extern void ts_config_note_write(void);

#endif							/* TS_CONFIG_H */
