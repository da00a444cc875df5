/*
 * maintenance.h
 *	  The maintenance background worker and its setting.
 */
#ifndef TS_MAINTENANCE_H
#define TS_MAINTENANCE_H

extern int	ts_maintenance_naptime;

extern void ts_maintenance_define_gucs(void);

#endif							/* TS_MAINTENANCE_H */
