/*
 * chat.c
 *	  Requests of the chat channels.  The URL is the row's metadata
 *	  webhook_url, else the channel's environment variable.  The body, unless
 *	  a json template already built one: Slack {"text"}; Teams a Workflows
 *	  Adaptive Card with the subject in bold (or, with metadata teams_format
 *	  "messagecard", a legacy MessageCard); Discord "content" when the body
 *	  fits 2000 characters, else an embed (title and description cut with an
 *	  ellipsis), never pinging anyone, sent with wait=true so that the answer
 *	  carries the message id.
 */
#include "postgres.h"

#include "notify/channel_table.h"
#include "notify/channels/chat.h"
#include "notify/channels/wire.h"
#include "notify/jsonb_text.h"

#include "common/jsonapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/jsonb.h"

#define TS_DISCORD_CONTENT_MAX 2000
#define TS_DISCORD_EMBED_MAX 4096

/* True if s is one valid JSON object (a template that already built the payload). */
static bool
ts_is_json_object(const char *s)
{
	JsonLexContext *lex;

	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	if (*s != '{')
		return false;
	lex = makeJsonLexContextCstringLen((char *) s, strlen(s), PG_UTF8, false);
	return pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS;
}

/* Cuts s to at most max characters (not bytes), ending with an ellipsis. */
static char *
ts_truncate_chars(const char *s, int max)
{
	int			len = strlen(s);

	if (pg_mbstrlen_with_len(s, len) <= max)
		return pstrdup(s);
	len = pg_mbcharcliplen(s, len, max - 1);
	return psprintf("%.*s\xE2\x80\xA6", len, s);
}

/* The default URL of a chat channel, from the server environment. */
static char *
ts_env_url(const char *channel)
{
	const TsChannel *c = ts_channel_find(channel);
	const char *v = c && c->url_env ? getenv(c->url_env) : NULL;

	return v && *v ? pstrdup(v) : NULL;
}

/* Builds the body of a chat message (Slack, Teams, Discord). */
static void
ts_chat_body(TsNotification *n, StringInfo buf)
{
	const char *teams_format = ts_jsonb_string(n->metadata, "teams_format");

	if (ts_is_json_object(n->body))
	{
		appendStringInfoString(buf, n->body);	/* a json template built it */
		return;
	}
	if (strcmp(n->channel, "slack") == 0)
	{
		appendStringInfoChar(buf, '{');
		ts_json_pair(buf, "text", n->body);
		appendStringInfoChar(buf, '}');
	}
	else if (strcmp(n->channel, "teams") == 0 && teams_format &&
			 strcmp(teams_format, "messagecard") == 0)
	{
		appendStringInfoString(buf, "{\"@type\": \"MessageCard\", \"@context\": \"http://schema.org/extensions\", ");
		ts_json_pair(buf, "summary", ts_truncate_chars(n->subject ? n->subject : n->body, 80));
		if (n->subject)
		{
			appendStringInfoString(buf, ", ");
			ts_json_pair(buf, "title", n->subject);
		}
		appendStringInfoString(buf, ", ");
		ts_json_pair(buf, "text", n->body);
		appendStringInfoChar(buf, '}');
	}
	else if (strcmp(n->channel, "teams") == 0)
	{
		appendStringInfoString(buf, "{\"type\": \"message\", \"attachments\": [{"
							   "\"contentType\": \"application/vnd.microsoft.card.adaptive\", "
							   "\"contentUrl\": null, \"content\": {"
							   "\"$schema\": \"http://adaptivecards.io/schemas/adaptive-card.json\", "
							   "\"type\": \"AdaptiveCard\", \"version\": \"1.2\", \"body\": [");
		if (n->subject)
		{
			appendStringInfoString(buf, "{\"type\": \"TextBlock\", \"weight\": \"Bolder\", \"wrap\": true, ");
			ts_json_pair(buf, "text", n->subject);
			appendStringInfoString(buf, "}, ");
		}
		appendStringInfoString(buf, "{\"type\": \"TextBlock\", \"wrap\": true, ");
		ts_json_pair(buf, "text", n->body);
		appendStringInfoString(buf, "}]}}]}");
	}
	else
	{
		/* Discord: plain content when it fits, else an embed; never ping */
		appendStringInfoChar(buf, '{');
		if (pg_mbstrlen(n->body) <= TS_DISCORD_CONTENT_MAX)
			ts_json_pair(buf, "content", n->body);
		else
		{
			appendStringInfoString(buf, "\"embeds\": [{");
			if (n->subject)
			{
				ts_json_pair(buf, "title", ts_truncate_chars(n->subject, 256));
				appendStringInfoString(buf, ", ");
			}
			ts_json_pair(buf, "description", ts_truncate_chars(n->body, TS_DISCORD_EMBED_MAX));
			appendStringInfoString(buf, "}]");
		}
		appendStringInfoString(buf, ", \"allowed_mentions\": {\"parse\": []}}");
	}
}

/* Appends ?wait=true (or &wait=true) to a Discord URL that lacks it. */
static char *
ts_discord_wait(const char *url)
{
	if (strstr(url, "wait=") != NULL)
		return pstrdup(url);
	return psprintf("%s%cwait=true", url, strchr(url, '?') ? '&' : '?');
}

/* Builds the request of a Slack, Teams or Discord notification; body receives the payload. */
bool
ts_build_chat_request(TsNotification *n, TsRequest *req, StringInfo body, char **error)
{
	req->url = ts_jsonb_string(n->metadata, "webhook_url");
	if (req->url == NULL)
		req->url = ts_env_url(n->channel);
	if (req->url == NULL)
	{
		*error = psprintf("No destination for %s: set metadata webhook_url or %s.",
						  n->channel, ts_channel_find(n->channel)->url_env);
		return false;
	}
	if (strcmp(n->channel, "discord") == 0)
	{
		req->url = ts_discord_wait(req->url);
		req->headers = lappend(req->headers,
							   pstrdup("User-Agent: DiscordBot (https://github.com/troubleshooting, 4.0.0)"));
	}
	else
		req->headers = lappend(req->headers, pstrdup("User-Agent: " TS_USER_AGENT));
	ts_chat_body(n, body);
	return true;
}
