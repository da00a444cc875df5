/*
 * curl.c
 *	  The hardening every outgoing libcurl transfer gets, shared by the
 *	  dispatcher and the LLM call: only the protocols of its kind (http and
 *	  https, or smtp and smtps), no redirects, no proxy from the
 *	  environment, no signals, connect and total timeouts, and a socket
 *	  callback that refuses any address the destination policy (policy.c)
 *	  forbids, so that a host name resolving to a private or metadata
 *	  address is stopped at connect time.  Transfers that reuse connections
 *	  (the dispatcher's) also get ts_net_check_reused: the address is checked
 *	  again before each request (or, with an older libcurl, never reused).
 */
#include "postgres.h"

#include "net/curl.h"
#include "net/policy.h"

#include <arpa/inet.h>
#include <sys/socket.h>

/* libcurl: refuses to open a socket to an address the policy forbids (arg: bool *refused). */
static curl_socket_t
ts_net_opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	bool	   *refused = arg;

	if (!ts_address_allowed(&addr->addr))
	{
		*refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

#if LIBCURL_VERSION_NUM >= 0x075000
/*
 * libcurl: checks the address again just before each request, since a
 * reused connection never passes through the open-socket callback.
 */
static int
ts_net_prereq_cb(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	bool	   *refused = arg;
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, primary_ip, &((struct sockaddr_in *) &ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, primary_ip, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	if (!ts_address_allowed((struct sockaddr *) &ss))
	{
		*refused = true;
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}
#endif

/*
 * Sets the options every outgoing transfer gets: the protocols of its kind,
 * no redirects, no proxy, no signals, the timeouts, and the address check
 * (*refused is set when it refuses a connection).
 */
void
ts_net_harden(CURL *easy, bool smtp, long connect_ms, long total_ms, bool *refused)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, smtp ? "smtp,smtps" : "http,https");
#else
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS,
					 smtp ? (long) (CURLPROTO_SMTP | CURLPROTO_SMTPS) : (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, ts_net_opensocket_cb);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, refused);
}

/* For transfers that reuse connections: checks the address before each request. */
void
ts_net_check_reused(CURL *easy, bool *refused)
{
#if LIBCURL_VERSION_NUM >= 0x075000
	curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, ts_net_prereq_cb);
	curl_easy_setopt(easy, CURLOPT_PREREQDATA, refused);
#else
	curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);	/* every request opens (and checks) a socket */
#endif
}
