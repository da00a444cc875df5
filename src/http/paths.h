/*
 * paths.h
 *	  The URLs the HTTP endpoint answers (macros only).
 */
#ifndef TS_HTTP_PATHS_H
#define TS_HTTP_PATHS_H

#define TS_PATH_REALTIME "/api/support/troubleshooting/realtime"
#define TS_PATH_METRICS "/api/support/troubleshooting/metrics"
#define TS_PATH_PROMETHEUS "/metrics"
#define TS_PATH_REPORTS "/api/support/troubleshooting/reports/"

#endif							/* TS_HTTP_PATHS_H */
