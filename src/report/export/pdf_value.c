/*
 * pdf_value.c
 *	  The values of a report document as a PDF report shows them: a
 *	  metric's value as short text by its kind (percent, minutes, decimal,
 *	  count; huge numbers in scientific notation) and a metric's label.
 */
#include "postgres.h"

#include "report/export/document.h"
#include "report/export/pdf_draw.h"
#include "report/export/pdf_value.h"

#include "utils/numeric.h"

#include <math.h>

/* How a metric's values read: 'p' percent of a fraction, 'm' minutes, 'd' decimal, 'n' count. */
static char
ts_pdf_kind(const char *metric)
{
	size_t		len = strlen(metric);

	if ((len > 5 && strcmp(metric + len - 5, "_rate") == 0) || strcmp(metric, "csat") == 0 ||
		strcmp(metric, "helpful_share") == 0)
		return 'p';
	if (strstr(metric, "_minutes") != NULL)
		return 'm';
	if (strcmp(metric, "avg_rating") == 0 || strcmp(metric, "attempts_per_session") == 0)
		return 'd';
	return 'n';
}

/* Numbers at least this large are shown in scientific notation. */
#define TS_PDF_PLAIN_MAX 1e15

/*
 * A metric's value for display ("—" when null); with_sign puts + before
 * positives.  Any number reads as a short text: one beyond a double's range
 * or at least TS_PDF_PLAIN_MAX (as displayed) in scientific notation.
 */
char *
ts_pdf_value(const char *metric, JsonbValue *v, bool with_sign)
{
	double		d;
	double		shown;
	const char *sign;
	char		kind = ts_pdf_kind(metric);

	if (v != NULL && v->type == jbvNumeric && !ts_export_number(v, &d))
	{
		char	   *sci = numeric_out_sci(v->val.numeric, 2);

		return psprintf("%s%s", with_sign && sci[0] != '-' ? "+" : "", sci);
	}
	if (!ts_export_number(v, &d))
		return v == NULL || v->type == jbvNull ? pstrdup("—") : ts_pdf_str(ts_export_text(v));
	sign = with_sign && d > 0 ? "+" : "";
	shown = kind == 'p' ? d * 100.0 : d;
	if (!isfinite(shown) || fabs(shown) >= TS_PDF_PLAIN_MAX)
		return psprintf("%s%.2e%s", sign, isfinite(shown) ? shown : d,
						kind == 'p' && isfinite(shown) ? (with_sign ? " pp" : "%") :
						kind == 'm' ? " min" : "");
	switch (kind)
	{
		case 'p':
			return psprintf(with_sign ? "%s%.1f pp" : "%s%.1f%%", sign, d * 100.0);
		case 'm':
			return psprintf("%s%.1f min", sign, d);
		case 'd':
			return psprintf("%s%.2f", sign, d);
		default:
			return d == floor(d) && fabs(d) < 1e15 ? psprintf("%s%.0f", sign, d)
				: psprintf("%s%.2f", sign, d);
	}
}

/* The label a metric is shown with. */
char *
ts_pdf_label(const char *metric)
{
	static const char *const labels[][2] = {
		{"total_sessions", "Sessions"},
		{"resolved_sessions", "Resolved sessions"},
		{"escalated_sessions", "Escalated sessions"},
		{"abandoned_sessions", "Abandoned sessions"},
		{"resolution_rate", "Resolution rate"},
		{"escalation_rate", "Escalation rate"},
		{"avg_resolution_time_minutes", "Average resolution time"},
		{"median_resolution_time_minutes", "Median resolution time"},
		{"p90_resolution_time_minutes", "90th percentile resolution time"},
		{"total_attempts", "Fix attempts"},
		{"successful_attempts", "Successful attempts"},
		{"attempts_per_session", "Attempts per session"},
		{"first_attempt_success_rate", "First-attempt success rate"},
		{"feedback_count", "Feedback responses"},
		{"avg_rating", "Average rating"},
		{"nps", "Net promoter score"},
		{"unique_problems", "Distinct problems"},
		{"csat", "CSAT"},
		{"feedback_response_rate", "Feedback response rate"},
	};
	char	   *label;

	for (int i = 0; i < TS_NELEMS(labels); i++)
		if (strcmp(labels[i][0], metric) == 0)
			return pstrdup(labels[i][1]);
	label = ts_pdf_str(metric);
	for (char *c = label; *c; c++)
		if (*c == '_')
			*c = ' ';
	return label;
}
