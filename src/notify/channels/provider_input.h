/*
 * provider_input.h
 *	  What an e-mail or SMS provider request is built from: settings,
 *	  secrets, attachments, SigV4 parameters.
 */
#ifndef TS_PROVIDER_INPUT_H
#define TS_PROVIDER_INPUT_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "notify/channels/message.h"

/* One attachment from metadata.attachments. */
typedef struct TsAttachment
{
	char	   *filename;
	char	   *content_type;
	char	   *b64;			/* base64 without line breaks */
	char	   *data;			/* decoded */
	int			len;
} TsAttachment;

/* The parts of an e-mail or SMS every provider's request is made of. */
typedef struct TsProviderInput
{
	const char *html;			/* the HTML body, or NULL */
	const char *text;			/* the text body (or alternative), or NULL */
	const char *subject;		/* "(no subject)" when there is none */
	const char *from;			/* the "from" setting, or NULL */
	const char *region;			/* the "region" setting, or NULL */
	List	   *attachments;	/* TsAttachment, e-mail only */
	TimestampTz at;				/* the attempt's time */
} TsProviderInput;

extern char *ts_provider_setting(TsNotification *n, const char *key);
extern char *ts_provider_secret(TsNotification *n, const char *key, bool required, char **error);
extern char *ts_provider_base_url(TsNotification *n, const char *def, const char *region);
extern List *ts_provider_attachments(TsNotification *n, char **error);
extern bool ts_aws_auth(TsNotification *n, const TsProviderInput *in, TsRequest *req,
						const char *service, const char *host_fmt, const char *path, char **error);

#endif							/* TS_PROVIDER_INPUT_H */
