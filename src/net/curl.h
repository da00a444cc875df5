/*
 * curl.h
 *	  The libcurl settings every outgoing transfer gets (the dispatcher's
 *	  and the LLM call's).
 */
#ifndef TS_NET_CURL_H
#define TS_NET_CURL_H

#include "postgres.h"

#include <curl/curl.h>

extern void ts_net_harden(CURL *easy, bool smtp, long connect_ms, long total_ms, bool *refused);
extern void ts_net_check_reused(CURL *easy, bool *refused);

#endif							/* TS_NET_CURL_H */
