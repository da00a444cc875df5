/*
 * claim.h
 *	  Claiming due notifications for the dispatcher: the ready list.
 */
#ifndef TS_CLAIM_H
#define TS_CLAIM_H

#include "postgres.h"
#include "nodes/pg_list.h"
#include "notify/channels/message.h"

/* A claimed row, with what the claim told about it. */
typedef struct TsReady
{
	TsNotification n;
	int16		rank;
	int			attempts;
	int			max_attempts;
	int64		webhook_id;
	bool		webhook_active;
} TsReady;

extern List *ts_ready;
extern MemoryContext ts_ready_cxt;

extern int	ts_claim(int limit, bool recover_all);

#endif							/* TS_CLAIM_H */
