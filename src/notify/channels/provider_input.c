/*
 * provider_input.c
 *	  What an e-mail or SMS provider request is built from: the channel's
 *	  provider settings, secrets given as is or as env:NAME (an error names
 *	  the key and the variable, never a value), base URLs, the attachments
 *	  in the row's metadata (checked again: their type goes into headers)
 *	  and the SigV4 parameters of the Amazon providers.
 */
#include "postgres.h"

#include "notify/channels/provider_input.h"
#include "notify/enqueue/content.h"
#include "notify/jsonb_text.h"

#include <ctype.h>
#include <curl/curl.h>

#include "common/base64.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* A setting of the channel's provider, or NULL. */
char *
ts_provider_setting(TsNotification *n, const char *key)
{
	char	   *v = ts_jsonb_string(n->settings, key);

	return v && *v ? v : NULL;	/* an empty string is no setting */
}

/*
 * A setting that may be a secret given as env:NAME; sets *error (naming the
 * key and variable, never a value) when it is required and missing.
 */
char *
ts_provider_secret(TsNotification *n, const char *key, bool required, char **error)
{
	char	   *v = ts_provider_setting(n, key);

	if (v && strncmp(v, "env:", 4) == 0)
	{
		const char *e = getenv(v + 4);

		if (e == NULL || *e == '\0')
		{
			*error = psprintf("%s setting %s names environment variable %s, which the server does not have",
							  n->provider, key, v + 4);
			return NULL;
		}
		return pstrdup(e);
	}
	if (v == NULL && required)
		*error = psprintf("%s setting %s is missing", n->provider, key);
	return v;
}

/* The setting, or def with "%s" replaced by the region. */
char *
ts_provider_base_url(TsNotification *n, const char *def, const char *region)
{
	char	   *v = ts_provider_setting(n, "base_url");
	int			len;

	if (v == NULL)
		v = region ? psprintf(def, region) : pstrdup(def);
	len = strlen(v);
	while (len > 0 && v[len - 1] == '/')
		v[--len] = '\0';
	return v;
}

/* The attachments in metadata (validated at enqueue); a malformed one sets *error. */
List *
ts_provider_attachments(TsNotification *n, char **error)
{
	List	   *out = NIL;
	JsonbValue *arr;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (n->metadata == NULL || !JB_ROOT_IS_OBJECT(n->metadata))
		return NIL;
	arr = getKeyJsonValueFromContainer(&n->metadata->root, "attachments", 11, NULL);
	if (arr == NULL || arr->type != jbvBinary)
		return NIL;
	it = JsonbIteratorInit(arr->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		TsAttachment *a;
		JsonbValue *f;
		JsonbValue *ct;
		JsonbValue *c;
		StringInfoData clean;
		int			max;

		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		{
			*error = pstrdup("an attachment is not an object");
			return NIL;
		}
		f = getKeyJsonValueFromContainer(v.val.binary.data, "filename", 8, NULL);
		ct = getKeyJsonValueFromContainer(v.val.binary.data, "content_type", 12, NULL);
		c = getKeyJsonValueFromContainer(v.val.binary.data, "content", 7, NULL);
		if (f == NULL || f->type != jbvString || c == NULL || c->type != jbvString)
		{
			*error = pstrdup("an attachment lacks filename or content");
			return NIL;
		}
		a = palloc0(sizeof(TsAttachment));
		a->filename = pnstrdup(f->val.string.val, f->val.string.len);
		a->content_type = ct && ct->type == jbvString ? pnstrdup(ct->val.string.val, ct->val.string.len)
			: pstrdup("application/octet-stream");
		if (!ts_is_mime_type(a->content_type, strlen(a->content_type)))
		{
			/* it goes into a part's header: checked again here */
			*error = psprintf("attachment %s has a content_type that is not type/subtype", a->filename);
			return NIL;
		}
		initStringInfo(&clean);
		for (int i = 0; i < c->val.string.len; i++)
			if (!isspace((unsigned char) c->val.string.val[i]))
				appendStringInfoChar(&clean, c->val.string.val[i]);
		a->b64 = clean.data;
		max = pg_b64_dec_len(clean.len);
		a->data = palloc(max + 1);
		a->len = pg_b64_decode(clean.data, clean.len, a->data, max);
		if (a->len < 0)
		{
			*error = psprintf("attachment %s is not valid base64", a->filename);
			return NIL;
		}
		out = lappend(out, a);
	}
	return out;
}

/*
 * Starts an Amazon request to service (ses, sns) in the settings' region:
 * the SigV4 parameters, "X-Amz-Security-Token" when a session token is set,
 * and the URL: path on the base URL (host_fmt with the region, unless the
 * settings give one).  False with *error set when something is missing.
 */
bool
ts_aws_auth(TsNotification *n, const TsProviderInput *in, TsRequest *req, const char *service,
			const char *host_fmt, const char *path, char **error)
{
	char	   *token;

	if (in->region == NULL)
	{
		*error = psprintf("%s setting region is missing", service);
		return false;
	}

#if LIBCURL_VERSION_NUM < 0x074b00
	*error = pstrdup("Amazon providers need libcurl 7.75 or later (SigV4)");
	return false;
#endif
	req->username = ts_provider_secret(n, "access_key_id", true, error);
	req->password = *error ? NULL : ts_provider_secret(n, "secret_access_key", true, error);
	token = *error ? NULL : ts_provider_secret(n, "session_token", false, error);
	if (*error)
		return false;
	req->aws_sigv4 = psprintf("aws:amz:%s:%s", in->region, service);
	if (token)
		req->headers = lappend(req->headers, psprintf("X-Amz-Security-Token: %s", token));
	req->secret_headers = true;
	req->url = psprintf("%s%s", ts_provider_base_url(n, host_fmt, in->region), path);
	return true;
}
