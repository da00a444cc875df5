/*
 * message.h
 *	  The types every request builder shares: a notification row as the
 *	  builders need it, and the HTTP or SMTP request built from it (types
 *	  only: no module of its own).
 */
#ifndef TS_MESSAGE_H
#define TS_MESSAGE_H

#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* The User-Agent of webhook, Slack and Teams requests. */
#define TS_USER_AGENT "troubleshooting-postgres/4.0.0"

/* What the request builder needs of a notification row. */
typedef struct TsNotification
{
	int64		id;
	char	   *session_id;		/* the row's session ('' for none): with id, its key */
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

#endif							/* TS_MESSAGE_H */
