/*
 * channel_table.h
 *	  The notification channels: one table of their names, families and
 *	  default-URL environment variables, used wherever channels are listed
 *	  or told apart.
 */
#ifndef TS_CHANNEL_H
#define TS_CHANNEL_H

#include "postgres.h"

/* How a channel's messages leave. */
typedef enum TsChannelFamily
{
	TS_CHANNEL_PROVIDER,		/* email, sms: through the channel's provider */
	TS_CHANNEL_CHAT,			/* slack, teams, discord: a chat webhook URL */
	TS_CHANNEL_WEBHOOK			/* webhook: a subscription, signed */
} TsChannelFamily;

/* One notification channel. */
typedef struct TsChannel
{
	const char *name;
	TsChannelFamily family;
	const char *url_env;		/* chat: the environment variable of its default URL */
} TsChannel;

extern const TsChannel *ts_channel_find(const char *name);
extern bool ts_channel_in_family(const char *name, TsChannelFamily family);
extern char *ts_channel_list_text(void);
extern char *ts_channel_sql_array(bool with_providers);

#endif							/* TS_CHANNEL_H */
