/*
 * request.h
 *	  Notification rows and the HTTP requests built from them.
 */
#ifndef TS_REQUEST_H
#define TS_REQUEST_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* What the request builder needs of a notification row. */
typedef struct TsNotification
{
	int64		id;
	char	   *channel;
	char	   *recipient;
	char	   *subject;		/* may be NULL */
	char	   *body;
	Jsonb	   *metadata;		/* may be NULL */
	char	   *idempotency_key;
	char	   *webhook_url;	/* the subscription's, for webhook rows */
	char	   *webhook_secret;
	char	   *body_format;	/* text, markdown, html or json */
	char	   *text_body;		/* plain-text alternative of an html body */
	char	   *provider;		/* email and sms: the channel's provider */
	Jsonb	   *settings;		/* ... and its settings (secrets inside) */
} TsNotification;

typedef struct TsRequest
{
	char	   *url;
	List	   *headers;		/* "Name: value" strings */
	char	   *body;			/* for SMTP, the whole RFC 5322 message */
	size_t		body_len;
	bool		secret_headers; /* headers carry credentials: never shown */
	char	   *username;		/* basic auth, SMTP login, or AWS access key id */
	char	   *password;		/* ... its secret */
	char	   *aws_sigv4;		/* "aws:amz:<region>:<service>" to sign with */
	bool		smtp;			/* an SMTP transfer, not HTTP */
	bool		use_tls;		/* SMTP: TLS required (STARTTLS or smtps) */
	char	   *ca_file;		/* SMTP: CA bundle to trust */
	char	   *mail_from;		/* SMTP envelope */
	char	   *mail_rcpt;
	char	   *own_id;			/* SMTP: our Message-ID, without brackets */
} TsRequest;

extern char *ts_header_token(const char *key, const char *keep, char **error);
extern char *ts_webhook_signature(const char *secret, const char *msg_id, int64 timestamp,
								  const char *body, size_t body_len);
extern bool ts_build_request(TsNotification *n, TimestampTz attempt_time, TsRequest *req,
							 char **error);
extern bool ts_fetch_notification(int64 id, TsNotification *n);

/* provider_request.c */
extern bool ts_build_provider_request(TsNotification *n, TimestampTz at, TsRequest *req,
									  char **error);

#endif							/* TS_REQUEST_H */
