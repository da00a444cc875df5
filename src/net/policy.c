/*
 * policy.c
 *	  Which destinations the dispatcher and the LLM call may reach (net/curl.c
 *	  applies it to every transfer, with the allowed protocols, no redirects
 *	  and no proxies): the address libcurl is about to connect to (after DNS)
 *	  is checked: link-local and cloud metadata addresses are
 *	  always refused, private, loopback and other non-public ranges unless
 *	  troubleshooting.allow_private_destinations.  IPv6 forms that carry an
 *	  IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) get the rules of
 *	  that IPv4 address.
 *
 *	  troubleshooting_destination_policy(url) asks the same code about a URL
 *	  without connecting and without resolving host names.
 */
#include "postgres.h"

#include "compat.h"
#include "net/policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_FUNCTION_INFO_V1(troubleshooting_destination_policy);

bool		ts_allow_private_destinations = false;

/* An IPv4 range (host order) and what it is. */
typedef struct TsV4Range
{
	uint32		net;
	int			bits;
	TsAddrClass cls;
	const char *what;
} TsV4Range;

/* Most specific first: the first match decides. */
static const TsV4Range ts_v4_ranges[] = {
	{0xA9FEA9FE, 32, TS_ADDR_FORBIDDEN, "cloud metadata address (169.254.169.254)"},
	{0x646464C8, 32, TS_ADDR_FORBIDDEN, "cloud metadata address (100.100.100.200, Alibaba Cloud)"},
	{0xC00000C0, 32, TS_ADDR_FORBIDDEN, "cloud metadata address (192.0.0.192, Oracle Cloud)"},
	{0xA83F8110, 32, TS_ADDR_FORBIDDEN, "cloud platform address (168.63.129.16, Azure)"},
	{0xA9FE0000, 16, TS_ADDR_FORBIDDEN, "link-local address (169.254.0.0/16)"},
	{0x00000000, 8, TS_ADDR_PRIVATE, "\"this network\" address (0.0.0.0/8)"},
	{0x0A000000, 8, TS_ADDR_PRIVATE, "private address (10.0.0.0/8)"},
	{0x64400000, 10, TS_ADDR_PRIVATE, "shared address space (100.64.0.0/10)"},
	{0x7F000000, 8, TS_ADDR_PRIVATE, "loopback address (127.0.0.0/8)"},
	{0xAC100000, 12, TS_ADDR_PRIVATE, "private address (172.16.0.0/12)"},
	{0xC0000000, 24, TS_ADDR_PRIVATE, "IETF protocol assignment (192.0.0.0/24)"},
	{0xC0000200, 24, TS_ADDR_PRIVATE, "documentation address (192.0.2.0/24)"},
	{0xC0586300, 24, TS_ADDR_PRIVATE, "6to4 relay anycast address (192.88.99.0/24)"},
	{0xC0A80000, 16, TS_ADDR_PRIVATE, "private address (192.168.0.0/16)"},
	{0xC6120000, 15, TS_ADDR_PRIVATE, "benchmarking address (198.18.0.0/15)"},
	{0xC6336400, 24, TS_ADDR_PRIVATE, "documentation address (198.51.100.0/24)"},
	{0xCB007100, 24, TS_ADDR_PRIVATE, "documentation address (203.0.113.0/24)"},
	{0xE0000000, 4, TS_ADDR_PRIVATE, "multicast address (224.0.0.0/4)"},
	{0xF0000000, 4, TS_ADDR_PRIVATE, "reserved address (240.0.0.0/4)"},
};

/* An IPv6 range and what it is. */
typedef struct TsV6Range
{
	uint8		net[16];
	int			bits;
	TsAddrClass cls;
	const char *what;
} TsV6Range;

/* Checked after the forms that embed an IPv4 address; first match decides. */
static const TsV6Range ts_v6_ranges[] = {
	{{0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54}, 128, TS_ADDR_FORBIDDEN, "cloud metadata address (fd00:ec2::254, AWS)"},
	{{0xfd, 0x20, 0x00, 0xce, [14] = 0x02, [15] = 0x54}, 128, TS_ADDR_FORBIDDEN, "cloud metadata address (fd20:ce::254, Google Cloud)"},
	{{0xfe, 0x80}, 10, TS_ADDR_FORBIDDEN, "link-local address (fe80::/10)"},
	{{0}, 128, TS_ADDR_PRIVATE, "unspecified address (::)"},
	{{[15] = 1}, 128, TS_ADDR_PRIVATE, "loopback address (::1)"},
	{{0x01, 0x00}, 64, TS_ADDR_PRIVATE, "discard-only address (100::/64)"},
	{{0x20, 0x01, 0x0d, 0xb8}, 32, TS_ADDR_PRIVATE, "documentation address (2001:db8::/32)"},
	{{0x20, 0x01}, 23, TS_ADDR_PRIVATE, "IETF protocol assignment (2001::/23)"},
	{{0x3f, 0xff}, 20, TS_ADDR_PRIVATE, "documentation address (3fff::/20)"},
	{{0xfe, 0xc0}, 10, TS_ADDR_PRIVATE, "site-local address (fec0::/10)"},
	{{0xfc, 0x00}, 7, TS_ADDR_PRIVATE, "unique local address (fc00::/7)"},
	{{0xff, 0x00}, 8, TS_ADDR_PRIVATE, "multicast address (ff00::/8)"},
	{{0x20, 0x00}, 3, TS_ADDR_PUBLIC, NULL},
	{{0}, 0, TS_ADDR_PRIVATE, "reserved address (outside 2000::/3)"},
};

/* Defines troubleshooting.allow_private_destinations. */
void
ts_policy_define_gucs(void)
{
	/*
	 * Superuser-only rather than reload-only: the workers read it from the
	 * configuration files (or ALTER DATABASE ... SET), and a superuser can
	 * also SET it in a session to ask troubleshooting_destination_policy()
	 * what the other setting would say.  Nothing else in a session sends.
	 */
	DefineCustomBoolVariable("troubleshooting.allow_private_destinations",
							 "Lets notifications go to loopback and private network addresses.",
							 "Link-local and cloud metadata addresses stay refused.",
							 &ts_allow_private_destinations, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
}

/* True if the first bits of a and b are equal. */
static bool
ts_prefix_equal(const uint8 *a, const uint8 *b, int bits)
{
	int			whole = bits / 8;
	int			rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (0xff << (8 - rest))) == 0;
}

/* Classifies an IPv4 address (host order). */
static TsAddrClass
ts_classify_v4(uint32 a, TsAddrWhy *why)
{
	for (size_t i = 0; i < lengthof(ts_v4_ranges); i++)
	{
		const TsV4Range *r = &ts_v4_ranges[i];
		uint32		mask = r->bits == 0 ? 0 : ~(uint32) 0 << (32 - r->bits);

		if ((a & mask) == r->net)
		{
			why->range = r->what;
			return r->cls;
		}
	}
	why->range = NULL;
	return TS_ADDR_PUBLIC;
}

/* The IPv4 address in four bytes, host order. */
static uint32
ts_v4_at(const uint8 *p)
{
	return ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
}

/* Classifies the IPv4 address a that IPv6 form via carries. */
static TsAddrClass
ts_classify_embedded(uint32 a, const char *via, TsAddrWhy *why)
{
	struct in_addr in;

	in.s_addr = htonl(a);
	why->via = via;
	if (inet_ntop(AF_INET, &in, why->embedded, sizeof(why->embedded)) == NULL)
		why->embedded[0] = '\0';
	return ts_classify_v4(a, why);
}

/*
 * Classifies a prefix that is never public itself (local-use NAT64,
 * Teredo) but where either of two IPv4 addresses may be the one reached:
 * the stricter answer wins.
 */
static TsAddrClass
ts_classify_two_embedded(uint32 a, uint32 b, const char *via, TsAddrWhy *why)
{
	TsAddrWhy	second;

	if (ts_classify_embedded(a, via, why) == TS_ADDR_FORBIDDEN)
		return TS_ADDR_FORBIDDEN;
	memset(&second, 0, sizeof(second));
	if (ts_classify_embedded(b, via, &second) == TS_ADDR_FORBIDDEN)
	{
		*why = second;
		return TS_ADDR_FORBIDDEN;
	}
	why->via = NULL;
	why->range = via;
	return TS_ADDR_PRIVATE;
}

/* Classifies an IPv6 address. */
static TsAddrClass
ts_classify_v6(const uint8 *b, TsAddrWhy *why)
{
	static const uint8 zero[12] = {0};
	static const uint8 mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const uint8 translated[12] = {[8] = 0xff, [9] = 0xff};
	static const uint8 nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	static const uint8 nat64_local[6] = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};
	static const uint8 teredo[4] = {0x20, 0x01, 0x00, 0x00};

	if (memcmp(b, mapped, 12) == 0)
		return ts_classify_embedded(ts_v4_at(b + 12), "IPv4-mapped address (::ffff:0:0/96)", why);
	if (memcmp(b, translated, 12) == 0)
		return ts_classify_embedded(ts_v4_at(b + 12), "IPv4-translated address (::ffff:0:0:0/96)", why);
	if (memcmp(b, nat64, 12) == 0)
		return ts_classify_embedded(ts_v4_at(b + 12), "NAT64 address (64:ff9b::/96)", why);
	if (memcmp(b, zero, 12) == 0 && ts_v4_at(b + 12) > 1)	/* not :: nor ::1 */
		return ts_classify_embedded(ts_v4_at(b + 12), "IPv4-compatible address (::/96)", why);
	if (b[0] == 0x20 && b[1] == 0x02)
		return ts_classify_embedded(ts_v4_at(b + 2), "6to4 address (2002::/16)", why);
	if (memcmp(b, nat64_local, 6) == 0)
	{
		/* the operator's prefix length is unknown: the /96 and /48 layouts */
		uint8		v4_48[4] = {b[6], b[7], b[9], b[10]};

		return ts_classify_two_embedded(ts_v4_at(b + 12), ts_v4_at(v4_48),
										"local-use NAT64 address (64:ff9b:1::/48)", why);
	}
	if (memcmp(b, teredo, 4) == 0)
	{
		/* the Teredo server, and the client's address stored inverted */
		return ts_classify_two_embedded(ts_v4_at(b + 4), ~ts_v4_at(b + 12),
										"Teredo address (2001::/32)", why);
	}
	for (size_t i = 0; i < lengthof(ts_v6_ranges); i++)
		if (ts_prefix_equal(b, ts_v6_ranges[i].net, ts_v6_ranges[i].bits))
		{
			why->range = ts_v6_ranges[i].what;
			return ts_v6_ranges[i].cls;
		}
	return TS_ADDR_PUBLIC;		/* not reached: the last range matches all */
}

/* Classifies a socket address and says why (why may be NULL). */
TsAddrClass
ts_classify_address_why(const struct sockaddr *sa, TsAddrWhy *why)
{
	TsAddrWhy	scratch;

	if (why == NULL)
		why = &scratch;
	memset(why, 0, sizeof(*why));
	if (sa->sa_family == AF_INET)
		return ts_classify_v4(ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr), why);
	if (sa->sa_family == AF_INET6)
		return ts_classify_v6(((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr, why);
	why->range = "address family other than IPv4 and IPv6";
	return TS_ADDR_FORBIDDEN;
}

/* Classifies a socket address the dispatcher is about to connect to. */
TsAddrClass
ts_classify_address(const struct sockaddr *sa)
{
	return ts_classify_address_why(sa, NULL);
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

/* True if url uses smtp or smtps. */
bool
ts_smtp_scheme_allowed(const char *url)
{
	return pg_strncasecmp(url, "smtp://", 7) == 0 || pg_strncasecmp(url, "smtps://", 8) == 0;
}

/*
 * The host libcurl would connect to for url, parsed by libcurl itself
 * (userinfo, IPv4 shorthand and IPv6 brackets as it reads them), palloc'd;
 * NULL with *error set when libcurl refuses the URL.
 */
static char *
ts_url_host(const char *url, const char **error)
{
	CURLU	   *volatile u = curl_url();
	char	   *volatile host = NULL;
	char	   *result = NULL;
	CURLUcode	rc;

	if (u == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		char	   *h = NULL;

		rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
		if (rc == CURLUE_OK)
			rc = curl_url_get(u, CURLUPART_HOST, &h, 0);
		host = h;
		if (rc != CURLUE_OK)
			*error = curl_url_strerror(rc);
		else
			result = pstrdup(host);
	}
	PG_FINALLY();
	{
		curl_free(host);
		curl_url_cleanup(u);
	}
	PG_END_TRY();
	return result;
}

/*
 * Parses host as a numeric address the way the resolver does (no DNS:
 * AI_NUMERICHOST; brackets stripped) into ss; false for a host name.
 */
static bool
ts_numeric_host(const char *host, struct sockaddr_storage *ss)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	char	   *h = pstrdup(host);
	size_t		len = strlen(h);
	bool		ok;

	if (len >= 2 && h[0] == '[' && h[len - 1] == ']')
	{
		h[len - 1] = '\0';
		h++;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_NUMERICHOST;
	ok = getaddrinfo(h, NULL, &hints, &res) == 0 && res != NULL &&
		res->ai_addrlen <= sizeof(*ss);
	if (ok)
		memcpy(ss, res->ai_addr, res->ai_addrlen);
	if (res)
		freeaddrinfo(res);
	return ok;
}

/* The refusal text for an address of class c, or NULL if it is allowed. */
static char *
ts_address_refusal(TsAddrClass c, const TsAddrWhy *why, const char *prefix)
{
	const char *rule;

	if (c == TS_ADDR_PUBLIC || (c == TS_ADDR_PRIVATE && ts_allow_private_destinations))
		return NULL;
	rule = c == TS_ADDR_FORBIDDEN ? "never allowed"
		: "allowed only with troubleshooting.allow_private_destinations";
	if (why->via)
		return psprintf("refused: %s%s of %s: %s; %s", prefix, why->via,
						why->embedded, why->range ? why->range : "public address", rule);
	return psprintf("refused: %s%s; %s", prefix, why->range, rule);
}

/*
 * What the policy says of url without connecting: the scheme, then the
 * host as libcurl reads it.  A numeric address gets the connect-time
 * check; localhost is answered as libcurl resolves it (loopback, without
 * DNS); any other host name is left to send time.  *reason (palloc'd) says
 * why, for every verdict but TS_DEST_ALLOWED.
 */
TsDestVerdict
ts_destination_check(const char *url, bool smtp_ok, char **reason)
{
	const char *error = NULL;
	char	   *host;
	struct sockaddr_storage ss;
	TsAddrWhy	why;
	size_t		len;

	*reason = NULL;
	if (!ts_url_scheme_allowed(url) && !(smtp_ok && ts_smtp_scheme_allowed(url)))
	{
		*reason = pstrdup(smtp_ok ? "refused: scheme not allowed (http, https, smtp or smtps only)"
						  : "refused: scheme not allowed (http or https only)");
		return TS_DEST_REFUSED;
	}
	host = ts_url_host(url, &error);
	if (host == NULL)
	{
		*reason = psprintf("refused: not a valid URL (%s)", error ? error : "unknown error");
		return TS_DEST_REFUSED;
	}
	memset(&ss, 0, sizeof(ss));
	if (ts_numeric_host(host, &ss))
	{
		TsAddrClass c = ts_classify_address_why((struct sockaddr *) &ss, &why);

		*reason = ts_address_refusal(c, &why, "");
		return *reason ? TS_DEST_REFUSED : TS_DEST_ALLOWED;
	}

	/* libcurl answers localhost and *.localhost itself: 127.0.0.1 and ::1 */
	len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		host[--len] = '\0';
	if (pg_strcasecmp(host, "localhost") == 0 ||
		(len > 10 && pg_strcasecmp(host + len - 10, ".localhost") == 0))
	{
		struct sockaddr_in *in = (struct sockaddr_in *) &ss;

		memset(&ss, 0, sizeof(ss));
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(0x7F000001);
		*reason = ts_address_refusal(ts_classify_address_why((struct sockaddr *) &ss, &why),
									 &why, "localhost is a ");
		return *reason ? TS_DEST_REFUSED : TS_DEST_ALLOWED;
	}
	*reason = pstrdup("resolved at send time: every address the host name resolves to is checked before connecting");
	return TS_DEST_AT_SEND_TIME;
}

/*
 * troubleshooting_destination_policy(url): 'allowed', the refusal reason,
 * or for a host name that it is decided at send time.  Never connects and
 * never resolves a name.
 */
Datum
troubleshooting_destination_policy(PG_FUNCTION_ARGS)
{
	char	   *url = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *reason;

	if (ts_destination_check(url, true, &reason) == TS_DEST_ALLOWED)
		PG_RETURN_TEXT_P(cstring_to_text("allowed"));
	PG_RETURN_TEXT_P(cstring_to_text(reason));
}
