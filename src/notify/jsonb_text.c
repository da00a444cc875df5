/*
 * jsonb_text.c
 *	  Reading a string member of a jsonb object, as the notification code
 *	  does for a row's metadata, a provider's settings and a set of
 *	  Mustache partials.
 */
#include "postgres.h"

#include "notify/jsonb_text.h"

/* A string member of a jsonb object, or NULL (no object, no such member, or not a string). */
char *
ts_jsonb_string(Jsonb *obj, const char *key)
{
	JsonbValue *v;

	if (obj == NULL || !JB_ROOT_IS_OBJECT(obj))
		return NULL;
	v = getKeyJsonValueFromContainer(&obj->root, key, strlen(key), NULL);
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}
