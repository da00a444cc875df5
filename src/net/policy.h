/*
 * policy.h
 *	  Destination policy of the dispatcher and the LLM call: which addresses
 *	  they may connect to, asked at connect time and, without connecting,
 *	  through troubleshooting_destination_policy().
 */
#ifndef TS_NET_POLICY_H
#define TS_NET_POLICY_H

#include <sys/socket.h>

typedef enum TsAddrClass
{
	TS_ADDR_PUBLIC,
	TS_ADDR_PRIVATE,			/* loopback, RFC 1918, ULA, ...: allowed on request */
	TS_ADDR_FORBIDDEN			/* link-local and cloud metadata: never */
} TsAddrClass;

/* Why an address got its class: the range, and the IPv4 address it embeds. */
typedef struct TsAddrWhy
{
	const char *range;			/* e.g. "private address (10.0.0.0/8)" */
	const char *via;			/* e.g. "NAT64 address (64:ff9b::/96)", or NULL */
	char		embedded[16];	/* the embedded IPv4 address when via is set */
} TsAddrWhy;

/* What the policy says of a URL, asked without connecting. */
typedef enum TsDestVerdict
{
	TS_DEST_ALLOWED,
	TS_DEST_REFUSED,
	TS_DEST_AT_SEND_TIME		/* a host name: its addresses are checked when sent */
} TsDestVerdict;

extern bool ts_allow_private_destinations;

extern void ts_policy_define_gucs(void);
extern TsAddrClass ts_classify_address(const struct sockaddr *sa);
extern TsAddrClass ts_classify_address_why(const struct sockaddr *sa, TsAddrWhy *why);
extern bool ts_address_allowed(const struct sockaddr *sa);
extern bool ts_url_scheme_allowed(const char *url);
extern bool ts_smtp_scheme_allowed(const char *url);
extern TsDestVerdict ts_destination_check(const char *url, bool smtp_ok, char **reason);

#endif							/* TS_NET_POLICY_H */
