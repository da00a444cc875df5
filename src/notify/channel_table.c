/*
 * channel_table.c
 *	  The table of notification channels (email, sms, slack, teams, discord,
 *	  webhook), in the order the documentation and the metrics list them:
 *	  each with its family and, for chat channels, the environment variable
 *	  that holds its default URL.  Lookups, and the list as text for hints
 *	  and as a SQL array literal.
 */
#include "postgres.h"

#include "notify/channel_table.h"

#include "lib/stringinfo.h"

static const TsChannel ts_channels[] = {
	{"email", TS_CHANNEL_PROVIDER, NULL},
	{"sms", TS_CHANNEL_PROVIDER, NULL},
	{"slack", TS_CHANNEL_CHAT, "SLACK_WEBHOOK_URL"},
	{"teams", TS_CHANNEL_CHAT, "TEAMS_WEBHOOK_URL"},
	{"discord", TS_CHANNEL_CHAT, "DISCORD_WEBHOOK_URL"},
	{"webhook", TS_CHANNEL_WEBHOOK, NULL},
};

/* The channel called name, or NULL when there is none. */
const TsChannel *
ts_channel_find(const char *name)
{
	for (size_t i = 0; i < lengthof(ts_channels); i++)
		if (strcmp(name, ts_channels[i].name) == 0)
			return &ts_channels[i];
	return NULL;
}

/* True if name is a channel of the given family. */
bool
ts_channel_in_family(const char *name, TsChannelFamily family)
{
	const TsChannel *c = ts_channel_find(name);

	return c != NULL && c->family == family;
}

/* The channel names for a hint: "email, sms, ... and webhook". */
char *
ts_channel_list_text(void)
{
	StringInfoData out;

	initStringInfo(&out);
	for (size_t i = 0; i < lengthof(ts_channels); i++)
		appendStringInfo(&out, "%s%s", i == 0 ? "" : i + 1 < lengthof(ts_channels) ? ", " : " and ",
						 ts_channels[i].name);
	return out.data;
}

/*
 * The channel names as a SQL array literal, "{email,sms,...}"; without
 * the provider channels when with_providers is false.  Names only: no
 * value from outside ever goes in.
 */
char *
ts_channel_sql_array(bool with_providers)
{
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	for (size_t i = 0; i < lengthof(ts_channels); i++)
	{
		if (!with_providers && ts_channels[i].family == TS_CHANNEL_PROVIDER)
			continue;
		if (out.len > 1)
			appendStringInfoChar(&out, ',');
		appendStringInfoString(&out, ts_channels[i].name);
	}
	appendStringInfoChar(&out, '}');
	return out.data;
}
