/*
 * chat.h
 *	  Requests of the chat channels: Slack, Teams, Discord.
 */
#ifndef TS_CHAT_H
#define TS_CHAT_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "notify/channels/message.h"

extern bool ts_build_chat_request(TsNotification *n, TsRequest *req, StringInfo body, char **error);

#endif							/* TS_CHAT_H */
