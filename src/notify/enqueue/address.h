/*
 * address.h
 *	  Checks of the addresses notifications and providers use: e-mail
 *	  addresses, E.164 phone numbers, host names and http(s) URLs.
 */
#ifndef TS_ADDRESS_H
#define TS_ADDRESS_H

#include "postgres.h"

/* The longest e-mail address (RFC 5321 path limit less the angle brackets). */
#define TS_EMAIL_MAX 254

/* The longest recipient of any channel (as the outbox takes it). */
#define TS_RECIPIENT_MAX 2048

/*
 * Each *_problem function returns NULL when its argument is fine, else a
 * phrase saying what is wrong, never quoting the value (it may be a secret).
 */
extern const char *ts_email_problem(const char *s);
extern const char *ts_e164_problem(const char *s);
extern const char *ts_host_problem(const char *host, int len, bool need_dot);
extern const char *ts_http_url_problem(const char *s);
extern const char *ts_smtp_url_problem(const char *s, bool *implicit_tls, bool *loopback);
extern bool ts_has_control_char(const char *s);
extern const char *ts_control_char_problem(const char *s);
extern const char *ts_destination_problem(const char *url);
extern void ts_check_http_url(const char *url, bool query_ok, bool policy, const char *message,
							  const char *lead, const char *hint);
extern void ts_check_webhook_url(const char *what, const char *url, const char *hint);
extern const char *ts_recipient_problem(const char *channel, const char *recipient);

extern void ts_check_recipient(const char *channel, const char *recipient);

#endif							/* TS_ADDRESS_H */
