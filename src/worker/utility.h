/*
 * utility.h
 *	  The utility hook that keeps the launcher informed of CREATE and DROP
 *	  EXTENSION and keeps workers out of the way of DROP DATABASE.
 */
#ifndef TS_UTILITY_H
#define TS_UTILITY_H

extern void ts_utility_hook_install(void);

#endif							/* TS_UTILITY_H */
