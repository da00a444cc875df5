/*
 * urlpolicy.c
 *	  Which destinations the dispatcher may reach.  Only http and https, no
 *	  redirects, no proxies from the environment; the address libcurl is
 *	  about to connect to (after DNS) is checked: link-local and cloud
 *	  metadata addresses are always refused, private, loopback and other
 *	  non-public ranges unless troubleshooting.allow_private_destinations.
 */
#include "postgres.h"

#include "compat.h"
#include "notify/urlpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "utils/guc.h"

bool		ts_allow_private_destinations = false;

/* Defines troubleshooting.allow_private_destinations. */
void
ts_urlpolicy_define_gucs(void)
{
	DefineCustomBoolVariable("troubleshooting.allow_private_destinations",
							 "Lets notifications go to loopback and private network addresses.",
							 "Link-local and cloud metadata addresses stay refused.",
							 &ts_allow_private_destinations, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
}

/* Classifies an IPv4 address (host order). */
static TsAddrClass
ts_classify_v4(uint32 a)
{
	if ((a >> 16) == 0xA9FE)	/* 169.254.0.0/16: link-local, cloud metadata */
		return TS_ADDR_FORBIDDEN;
	if ((a >> 24) == 127 || (a >> 24) == 10 || (a >> 24) == 0 ||
		(a >> 20) == 0xAC1 ||	/* 172.16.0.0/12 */
		(a >> 16) == 0xC0A8 ||	/* 192.168.0.0/16 */
		(a >> 22) == 0x191 ||	/* 100.64.0.0/10, shared address space */
		(a >> 28) >= 0xE)		/* multicast and reserved */
		return TS_ADDR_PRIVATE;
	return TS_ADDR_PUBLIC;
}

/* Classifies a socket address the dispatcher is about to connect to. */
TsAddrClass
ts_classify_address(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ts_classify_v4(ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6)
	{
		const uint8 *b = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
		static const uint8 metadata[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
		static const uint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		bool		zero_prefix = true;

		if (memcmp(b, metadata, 16) == 0)	/* fd00:ec2::254 */
			return TS_ADDR_FORBIDDEN;
		if (memcmp(b, mapped, 12) == 0)	/* ::ffff:a.b.c.d */
			return ts_classify_v4(((uint32) b[12] << 24) | ((uint32) b[13] << 16) |
								  ((uint32) b[14] << 8) | b[15]);
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)	/* fe80::/10 link-local */
			return TS_ADDR_FORBIDDEN;
		for (int i = 0; i < 15; i++)
			zero_prefix &= (b[i] == 0);
		if (zero_prefix)		/* :: and ::1 */
			return TS_ADDR_PRIVATE;
		if ((b[0] & 0xfe) == 0xfc || b[0] == 0xff)	/* fc00::/7 ULA, multicast */
			return TS_ADDR_PRIVATE;
		return TS_ADDR_PUBLIC;
	}
	return TS_ADDR_FORBIDDEN;
}

/* True if the dispatcher may connect to sa under the current settings. */
bool
ts_address_allowed(const struct sockaddr *sa)
{
	TsAddrClass c = ts_classify_address(sa);

	return c == TS_ADDR_PUBLIC || (c == TS_ADDR_PRIVATE && ts_allow_private_destinations);
}

/* True if url uses http or https. */
bool
ts_url_scheme_allowed(const char *url)
{
	return pg_strncasecmp(url, "http://", 7) == 0 || pg_strncasecmp(url, "https://", 8) == 0;
}
