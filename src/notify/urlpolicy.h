/*
 * urlpolicy.h
 *	  Destination policy of the dispatcher.
 */
#ifndef TS_URLPOLICY_H
#define TS_URLPOLICY_H

#include <sys/socket.h>

typedef enum TsAddrClass
{
	TS_ADDR_PUBLIC,
	TS_ADDR_PRIVATE,			/* loopback, RFC 1918, ULA, ...: allowed on request */
	TS_ADDR_FORBIDDEN			/* link-local and cloud metadata: never */
} TsAddrClass;

extern bool ts_allow_private_destinations;

extern void ts_urlpolicy_define_gucs(void);
extern TsAddrClass ts_classify_address(const struct sockaddr *sa);
extern bool ts_address_allowed(const struct sockaddr *sa);
extern bool ts_url_scheme_allowed(const char *url);

#endif							/* TS_URLPOLICY_H */
