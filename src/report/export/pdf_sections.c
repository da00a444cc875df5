/*
 * pdf_sections.c
 *	  The sections of a PDF report after its title block: the key figures
 *	  (summary with the trends), the sessions chart (series), customer
 *	  satisfaction with the rating chart, the top problems table with their
 *	  failing steps, and the recommendations.  Drawn with the primitives of
 *	  pdf_draw.c, breaking pages between rows and keeping rows together.
 */
#include "postgres.h"

#include "report/export/document.h"
#include "report/export/pdf_draw.h"
#include "report/export/pdf_sections.h"
#include "report/export/pdf_value.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include <math.h>

static const TsRgb ts_pdf_white = {1.0f, 1.0f, 1.0f};
static const TsRgb ts_pdf_grid = {0.80f, 0.80f, 0.80f};
static const TsRgb ts_pdf_amber = {0.95f, 0.68f, 0.13f};

/* Chart geometry: plot height and the room left of it for the axis labels. */
#define TS_CHART_H		150.0f
#define TS_CHART_AXIS	34.0f

/* The trend entry of a metric in trends.metrics, or NULL. */
static JsonbContainer *
ts_pdf_trend(JsonbContainer *metrics, const char *metric)
{
	for (int i = 0; i < ts_export_count(metrics); i++)
	{
		JsonbContainer *t = ts_export_object(ts_export_item(metrics, i));
		char	   *name = ts_export_text(ts_export_get(t, "metric"));

		if (name != NULL && strcmp(name, metric) == 0)
			return t;
	}
	return NULL;
}

/* A column title of a table's header row: left-aligned at x, or ending at x when right. */
typedef struct TsPdfColumn
{
	const char *title;
	float		x;
	bool		right;
} TsPdfColumn;

/* Draws a table's header row (the titles in bold on a light band), then moves down by advance. */
static void
ts_pdf_header_row(TsPdf *p, const TsPdfColumn *cols, int ncols, float advance)
{
	float		base = p->y - 13;

	ts_pdf_rect(p, TS_PDF_LEFT, p->y - 18, TS_PDF_WIDTH, 18, &ts_pdf_light);
	for (int i = 0; i < ncols; i++)
	{
		if (cols[i].right)
			ts_pdf_text_right(p, p->bold, 9, cols[i].x, base, &ts_pdf_black, cols[i].title);
		else
			ts_pdf_text(p, p->bold, 9, cols[i].x, base, &ts_pdf_black, cols[i].title);
	}
	p->y -= advance;
}

/* Column positions of the key figures table. */
#define TS_KPI_VALUE_R	(TS_PDF_LEFT + 300)
#define TS_KPI_PREV_R	(TS_PDF_LEFT + 385)
#define TS_KPI_CHANGE_X (TS_PDF_LEFT + 400)

/* The column titles of the key figures table. */
static const TsPdfColumn ts_kpi_cols[] = {
	{"Metric", TS_PDF_LEFT + 4, false},
	{"Value", TS_KPI_VALUE_R, true},
	{"Previous", TS_KPI_PREV_R, true},
	{"Change", TS_KPI_CHANGE_X, false},
};

/* The header row of the key figures table. */
static void
ts_pdf_kpi_header(TsPdf *p)
{
	ts_pdf_header_row(p, ts_kpi_cols, TS_NELEMS(ts_kpi_cols), 18);
}

/* One row of the key figures table: value, and how it moved when trend is known. */
static void
ts_pdf_kpi_row(TsPdf *p, const char *metric, JsonbValue *value, JsonbContainer *trend, int n)
{
	float		base;
	JsonbValue *dir;
	JsonbValue *better;
	JsonbValue *pct;
	const TsRgb *color = &ts_pdf_gray;
	char	   *change;
	double		d;

	if (ts_pdf_need(p, 16))
		ts_pdf_kpi_header(p);
	base = p->y - 11.5f;
	if (n % 2 == 1)
		ts_pdf_rect(p, TS_PDF_LEFT, p->y - 16, TS_PDF_WIDTH, 16, &ts_pdf_light);
	ts_pdf_text(p, p->font, 9, TS_PDF_LEFT + 4, base, &ts_pdf_black,
				ts_pdf_fit(p->font, 9, ts_pdf_label(metric), 200));
	ts_pdf_text_right(p, p->bold, 9, TS_KPI_VALUE_R, base, &ts_pdf_black,
					  ts_pdf_fit(p->bold, 9, ts_pdf_value(metric, value, false), 90));
	if (trend != NULL)
	{
		ts_pdf_text_right(p, p->font, 9, TS_KPI_PREV_R, base, &ts_pdf_gray,
						  ts_pdf_fit(p->font, 9, ts_pdf_value(metric, ts_export_get(trend, "previous"),
															  false), 75));
		dir = ts_export_get(trend, "direction");
		better = ts_export_get(trend, "better");
		pct = ts_export_get(trend, "change_percent");
		if (better != NULL && better->type == jbvBool)
			color = better->val.boolean ? &ts_pdf_green : &ts_pdf_red;
		if (dir != NULL && dir->type == jbvString && dir->val.string.len == 2 &&
			strncmp(dir->val.string.val, "up", 2) == 0)
			ts_pdf_triangle(p, TS_KPI_CHANGE_X, base, 7, true, color);
		else if (dir != NULL && dir->type == jbvString && dir->val.string.len == 4 &&
				 strncmp(dir->val.string.val, "down", 4) == 0)
			ts_pdf_triangle(p, TS_KPI_CHANGE_X, base, 7, false, color);
		else if (dir != NULL && dir->type == jbvString)
		{
			ts_pdf_hidden_text(p, 7, TS_KPI_CHANGE_X, base, "\xE2\x96\xAC");	/* ▬ */
			ts_pdf_rect(p, TS_KPI_CHANGE_X, base + 2, 7, 2, color);
		}
		if (ts_export_number(pct, &d))
			change = psprintf(fabs(d) < 1e15 ? "%s%.1f%%" : "%s%.2e%%", d > 0 ? "+" : "", d);
		else
			change = ts_pdf_value(metric, ts_export_get(trend, "change"), true);
		ts_pdf_text(p, p->font, 9, TS_KPI_CHANGE_X + 11, base, color,
					ts_pdf_fit(p->font, 9, change, TS_PDF_LEFT + TS_PDF_WIDTH - TS_KPI_CHANGE_X - 11));
	}
	p->y -= 16;
}

/* The key figures: every summary metric, then trend metrics not in the summary. */
void
ts_pdf_kpis(TsPdf *p, Jsonb *doc)
{
	static const char *const keys[] = {TS_SUMMARY_KEYS};
	JsonbContainer *summary = ts_export_object(ts_export_get(&doc->root, "summary"));
	JsonbContainer *trends = ts_export_object(ts_export_get(&doc->root, "trends"));
	JsonbContainer *metrics = ts_export_array(ts_export_get(trends, "metrics"));
	int			n = 0;

	if (summary == NULL)
		return;
	ts_pdf_heading(p, "Key figures", 40);
	ts_pdf_kpi_header(p);
	for (int i = 0; i < TS_NELEMS(keys); i++)
	{
		JsonbValue *v = ts_export_get(summary, keys[i]);

		if (v != NULL)
			ts_pdf_kpi_row(p, keys[i], v, ts_pdf_trend(metrics, keys[i]), n++);
	}
	for (int i = 0; i < ts_export_count(metrics); i++)
	{
		JsonbContainer *t = ts_export_object(ts_export_item(metrics, i));
		char	   *name = ts_export_text(ts_export_get(t, "metric"));

		if (name != NULL && ts_export_get(summary, name) == NULL)
			ts_pdf_kpi_row(p, name, ts_export_get(t, "current"), t, n++);
	}
}

/*
 * A count a chart draws, as a member of an object: 0 when null, missing, not
 * a number or negative, at most TS_CHART_VALUE_MAX, so that the chart's
 * geometry (bars, axis steps and their labels) stays finite and short.
 */
#define TS_CHART_VALUE_MAX 1e15

static double
ts_pdf_num(JsonbContainer *obj, const char *key)
{
	double		d = 0;

	if (!ts_export_number(ts_export_get(obj, key), &d) || !(d > 0))
		return 0;
	return Min(d, TS_CHART_VALUE_MAX);
}

/*
 * Draws the grid and labels of a count axis for values up to max, the plot
 * from (x, y), w by h; returns the axis top.  The step between grid lines is
 * 1, 2 or 5 times a power of ten, at most five steps.
 */
static double
ts_pdf_axis(TsPdf *p, float x, float y, float w, float h, double max)
{
	static const double mantissa[] = {1, 2, 5};
	double		magnitude = 1;
	double		step = 1;
	int			i = 0;
	int			steps;

	while (step * 5 < max)
	{
		if (++i == TS_NELEMS(mantissa))
		{
			i = 0;
			magnitude *= 10;
		}
		step = mantissa[i] * magnitude;
	}
	steps = Max((int) ceil(max / step), 1);
	for (int k = 0; k <= steps; k++)
	{
		float		gy = y + h * k / steps;

		ts_pdf_line(p, x, gy, x + w, gy, k == 0 ? 0.8f : 0.3f,
					k == 0 ? &ts_pdf_gray : &ts_pdf_grid);
		ts_pdf_text_right(p, p->font, 7, x - 4, gy - 2.5f, &ts_pdf_gray,
						  psprintf("%.0f", step * k));
	}
	return step * steps;
}

/* A legend entry (colour box and text) at x on the current line; returns the next x. */
static float
ts_pdf_legend(TsPdf *p, float x, const TsRgb *color, const char *text)
{
	ts_pdf_rect(p, x, p->y - 9, 8, 8, color);
	ts_pdf_text(p, p->font, 8, x + 11, p->y - 8.5f, &ts_pdf_black, text);
	return x + 11 + ts_pdf_width(p->font, 8, text) + 14;
}

/* The x-axis label of a series bucket: HH:MM by hour, MM-DD by day. */
static char *
ts_pdf_bucket_label(JsonbContainer *bucket, bool hourly)
{
	char	   *s = ts_pdf_str(ts_export_text(ts_export_get(bucket, "period_start")));

	/* "2026-05-01T13:00:00+02:00" or "2026-05-01 13:00:00+02" */
	if (strlen(s) >= 16 && s[4] == '-' && (s[10] == 'T' || s[10] == ' '))
		return hourly ? pnstrdup(s + 11, 5) : pnstrdup(s + 5, 5);
	return s;
}

/* The bar chart of the series: sessions and resolved sessions per bucket. */
void
ts_pdf_series_chart(TsPdf *p, Jsonb *doc)
{
	JsonbContainer *series = ts_export_array(ts_export_get(&doc->root, "series"));
	JsonbContainer *period = ts_export_object(ts_export_get(&doc->root, "period"));
	char	   *gran = ts_export_text(ts_export_get(period, "granularity"));
	bool		hourly = gran != NULL && strcmp(gran, "hour") == 0;
	int			n = ts_export_count(series);
	double		max = 0;
	double		top;
	float		plot_x = TS_PDF_LEFT + TS_CHART_AXIS;
	float		plot_w = TS_PDF_WIDTH - TS_CHART_AXIS;
	float		base;
	float		slot;
	float		x;
	int			step;

	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
	{
		JsonbContainer *b = ts_export_object(ts_export_item(series, i));

		max = Max(max, Max(ts_pdf_num(b, "total_sessions"), ts_pdf_num(b, "resolved_sessions")));
	}
	ts_pdf_heading(p, hourly ? "Sessions by hour" : "Sessions by day", TS_CHART_H + 40);
	x = ts_pdf_legend(p, plot_x, &ts_pdf_blue, "Sessions");
	ts_pdf_legend(p, x, &ts_pdf_green, "Resolved");
	p->y -= 18;
	base = p->y - TS_CHART_H;
	top = ts_pdf_axis(p, plot_x, base, plot_w, TS_CHART_H, max);
	slot = plot_w / n;
	step = (int) ceil(n / 12.0);
	for (int i = 0; i < n; i++)
	{
		JsonbContainer *b = ts_export_object(ts_export_item(series, i));
		float		bar = Min(slot * 0.4f, 20.0f);
		float		bx = plot_x + (i + 0.5f) * slot - bar;
		float		total = (float) (ts_pdf_num(b, "total_sessions") / top * TS_CHART_H);
		float		resolved = (float) (ts_pdf_num(b, "resolved_sessions") / top * TS_CHART_H);

		if (total > 0)
			ts_pdf_rect(p, bx, base, bar, Min(total, TS_CHART_H), &ts_pdf_blue);
		if (resolved > 0)
			ts_pdf_rect(p, bx + bar, base, bar, Min(resolved, TS_CHART_H), &ts_pdf_green);
		if (i % step == 0)
			ts_pdf_text_center(p, p->font, 7, plot_x + (i + 0.5f) * slot, base - 10,
							   &ts_pdf_gray,
							   ts_pdf_fit(p->font, 7, ts_pdf_bucket_label(b, hourly),
										  slot * step - 2));
	}
	p->y = base - 22;
}

/* The bar chart of rating_distribution: one bar per rating 1 to 5. */
static void
ts_pdf_rating_chart(TsPdf *p, JsonbContainer *dist)
{
	static const char *const ratings[] = {"1", "2", "3", "4", "5"};
	float		h = TS_CHART_H * 0.8f;
	float		plot_x = TS_PDF_LEFT + TS_CHART_AXIS;
	float		plot_w = 300;
	float		slot = plot_w / TS_NELEMS(ratings);
	double		max = 0;
	double		top;
	float		base;

	for (int i = 0; i < TS_NELEMS(ratings); i++)
		max = Max(max, ts_pdf_num(dist, ratings[i]));
	ts_pdf_need(p, h + 50);
	p->y -= 6;
	ts_pdf_text(p, p->bold, 10, TS_PDF_LEFT, p->y - 10, &ts_pdf_black, "Rating distribution");
	p->y -= 24;
	base = p->y - h;
	top = ts_pdf_axis(p, plot_x, base, plot_w, h, max);
	for (int i = 0; i < TS_NELEMS(ratings); i++)
	{
		JsonbValue *v = ts_export_get(dist, ratings[i]);
		double		count = ts_pdf_num(dist, ratings[i]);
		float		bh = (float) Min(count / top * h, h);
		float		cx = plot_x + (i + 0.5f) * slot;

		if (bh > 0)
			ts_pdf_rect(p, cx - 16, base, 32, bh, &ts_pdf_amber);
		/* the document's number, shown safely (the bar is what was clamped) */
		ts_pdf_text_center(p, p->font, 7, cx, base + bh + 3, &ts_pdf_black,
						   v != NULL && v->type == jbvNumeric ? ts_pdf_value("n", v, false) : "0");
		ts_pdf_text_center(p, p->font, 8, cx, base - 11, &ts_pdf_gray,
						   psprintf("%s ★", ratings[i]));
	}
	p->y = base - 24;
}

/* Customer satisfaction: the figures on a line, the rating chart when charts. */
void
ts_pdf_satisfaction(TsPdf *p, Jsonb *doc, bool charts)
{
	JsonbContainer *sat = ts_export_object(ts_export_get(&doc->root, "satisfaction"));
	JsonbContainer *nps;
	JsonbContainer *dist;
	StringInfoData s;

	if (sat == NULL)
		return;
	nps = ts_export_object(ts_export_get(sat, "nps"));
	dist = ts_export_object(ts_export_get(sat, "rating_distribution"));
	ts_pdf_heading(p, "Customer satisfaction", 30);
	initStringInfo(&s);
	appendStringInfo(&s, "Feedback: %s   ·   Average rating: %s   ·   CSAT: %s   ·   NPS: %s",
					 ts_pdf_value("feedback_count", ts_export_get(sat, "feedback_count"), false),
					 ts_pdf_value("avg_rating", ts_export_get(sat, "avg_rating"), false),
					 ts_pdf_value("csat", ts_export_get(sat, "csat"), false),
					 ts_pdf_value("nps", ts_export_get(nps, "score"), false));
	if (nps != NULL)
		appendStringInfo(&s, " (%s promoters, %s passives, %s detractors)",
						 ts_pdf_value("n", ts_export_get(nps, "promoters"), false),
						 ts_pdf_value("n", ts_export_get(nps, "passives"), false),
						 ts_pdf_value("n", ts_export_get(nps, "detractors"), false));
	appendStringInfo(&s, "   ·   Found it helpful: %s   ·   Response rate: %s",
					 ts_pdf_value("helpful_share", ts_export_get(sat, "helpful_share"), false),
					 ts_pdf_value("feedback_response_rate",
								  ts_export_get(sat, "feedback_response_rate"), false));
	ts_pdf_paragraph(p, p->font, 9, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_black, s.data);
	if (charts && dist != NULL)
		ts_pdf_rating_chart(p, dist);
}

/* Right edges of the problems table's number columns, and the problem column. */
#define TS_PROB_TEXT_X	(TS_PDF_LEFT + 22)
#define TS_PROB_TEXT_W	210.0f
#define TS_PROB_SESS_R	(TS_PDF_LEFT + 290)
#define TS_PROB_RES_R	(TS_PDF_LEFT + 350)
#define TS_PROB_ESC_R	(TS_PDF_LEFT + 415)
#define TS_PROB_MED_R	(TS_PDF_LEFT + TS_PDF_WIDTH - 4)
#define TS_STEP_X		(TS_PROB_TEXT_X + 10)

/* The column titles of the problems table. */
static const TsPdfColumn ts_problem_cols[] = {
	{"#", TS_PDF_LEFT + 16, true},
	{"Problem", TS_PROB_TEXT_X, false},
	{"Sessions", TS_PROB_SESS_R, true},
	{"Resolved", TS_PROB_RES_R, true},
	{"Escalated", TS_PROB_ESC_R, true},
	{"Median time", TS_PROB_MED_R, true},
};

/* The header row of the problems table. */
static void
ts_pdf_problems_header(TsPdf *p)
{
	ts_pdf_header_row(p, ts_problem_cols, TS_NELEMS(ts_problem_cols), 20);
}

/* A failing step as one line of text. */
static char *
ts_pdf_step_text(JsonbContainer *step)
{
	char	   *title = ts_export_text(ts_export_get(step, "step_title"));

	return psprintf("Step %s%s%s: %s of %s attempts failed (%s)",
					ts_pdf_value("n", ts_export_get(step, "step_number"), false),
					title ? " · " : "", title ? ts_pdf_str(title) : "",
					ts_pdf_value("n", ts_export_get(step, "failed_attempts"), false),
					ts_pdf_value("n", ts_export_get(step, "attempts"), false),
					ts_pdf_value("failure_rate", ts_export_get(step, "failure_rate"), false));
}

/* A number cell of the problems table, right-aligned at right. */
static void
ts_pdf_problem_cell(TsPdf *p, float right, float base, const char *metric, JsonbValue *v)
{
	ts_pdf_text_right(p, p->font, 9, right, base, &ts_pdf_black,
					  ts_pdf_fit(p->font, 9, ts_pdf_value(metric, v, false), 56));
}

/* One problem: its row, then its failing steps. */
static void
ts_pdf_problem(TsPdf *p, JsonbContainer *prob, int rank)
{
	char	   *id = ts_export_text(ts_export_get(prob, "problem_id"));
	char	   *title = ts_export_text(ts_export_get(prob, "title"));
	JsonbContainer *steps = ts_export_array(ts_export_get(prob, "failing_steps"));
	List	   *lines;
	List	   *step_lines = NIL;
	ListCell   *lc;
	float		base;
	float		height;

	lines = ts_pdf_wrap(p->bold, 9, title ? ts_pdf_str(title) : id ? ts_pdf_str(id)
						: "(no problem detected)", TS_PROB_TEXT_W);
	for (int i = 0; i < ts_export_count(steps); i++)
		step_lines = list_concat(step_lines,
								 ts_pdf_wrap(p->font, 8,
											 ts_pdf_step_text(ts_export_object(ts_export_item(steps, i))),
											 TS_PDF_LEFT + TS_PDF_WIDTH - TS_STEP_X));
	/* the row and its steps stay together (a new page repeats the header) */
	height = list_length(lines) * 12 + (id && title ? 10 : 0) + list_length(step_lines) * 11.2f + 6;
	if (ts_pdf_keep(p, height + 20))
		ts_pdf_problems_header(p);
	base = p->y - 10;
	ts_pdf_text_right(p, p->font, 9, TS_PDF_LEFT + 16, base, &ts_pdf_gray, psprintf("%d", rank));
	ts_pdf_problem_cell(p, TS_PROB_SESS_R, base, "sessions", ts_export_get(prob, "sessions"));
	ts_pdf_problem_cell(p, TS_PROB_RES_R, base, "resolution_rate",
						ts_export_get(prob, "resolution_rate"));
	ts_pdf_problem_cell(p, TS_PROB_ESC_R, base, "escalation_rate",
						ts_export_get(prob, "escalation_rate"));
	ts_pdf_problem_cell(p, TS_PROB_MED_R, base, "median_resolution_time_minutes",
						ts_export_get(prob, "median_resolution_time_minutes"));
	foreach(lc, lines)
	{
		ts_pdf_text(p, p->bold, 9, TS_PROB_TEXT_X, p->y - 10, &ts_pdf_black,
					(const char *) lfirst(lc));
		p->y -= 12;
	}
	if (id && title)
	{
		ts_pdf_text(p, p->font, 7.5f, TS_PROB_TEXT_X, p->y - 8, &ts_pdf_gray,
					ts_pdf_fit(p->font, 7.5f, ts_pdf_str(id), TS_PROB_TEXT_W));
		p->y -= 10;
	}
	ts_pdf_lines(p, p->font, 8, TS_STEP_X, &ts_pdf_gray, step_lines);
	p->y -= 3;
	ts_pdf_line(p, TS_PDF_LEFT, p->y, TS_PDF_LEFT + TS_PDF_WIDTH, p->y, 0.3f, &ts_pdf_grid);
	p->y -= 3;
}

/* The top problems table, each problem followed by its failing steps. */
void
ts_pdf_problems(TsPdf *p, Jsonb *doc)
{
	JsonbContainer *problems = ts_export_array(ts_export_get(&doc->root, "top_problems"));
	int			n = ts_export_count(problems);

	if (problems == NULL)
		return;
	ts_pdf_heading(p, "Top problems", 50);
	if (n == 0)
	{
		ts_pdf_paragraph(p, p->font, 9, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_gray,
						 "No problems were recorded in this period.");
		return;
	}
	ts_pdf_problems_header(p);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		ts_pdf_problem(p, ts_export_object(ts_export_item(problems, i)), i + 1);
		ts_pdf_check(p, "drawing the top problems");
	}
}

/* The colour of a recommendation's severity badge. */
static const TsRgb *
ts_pdf_severity_color(const char *severity)
{
	if (severity != NULL && strcmp(severity, "critical") == 0)
		return &ts_pdf_red;
	if (severity != NULL && strcmp(severity, "warning") == 0)
		return &ts_pdf_orange;
	return &ts_pdf_blue;
}

/* The recommendations: a severity badge, the message wrapped, the rule's name. */
void
ts_pdf_recommendations(TsPdf *p, Jsonb *doc)
{
	JsonbContainer *recs = ts_export_array(ts_export_get(&doc->root, "recommendations"));
	float		text_x = TS_PDF_LEFT + 66;
	float		text_w = TS_PDF_WIDTH - 66;

	if (recs == NULL)
		return;
	ts_pdf_heading(p, "Recommendations", 30);
	if (ts_export_count(recs) == 0)
		ts_pdf_paragraph(p, p->font, 9, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_gray,
						 "No recommendations for this period.");
	for (int i = 0; i < ts_export_count(recs); i++)
	{
		JsonbContainer *rec = ts_export_object(ts_export_item(recs, i));
		char	   *severity = ts_export_text(ts_export_get(rec, "severity"));
		char	   *message = ts_export_text(ts_export_get(rec, "message"));
		char	   *rule = ts_export_text(ts_export_get(rec, "rule"));
		char	   *badge = ts_pdf_str(severity ? severity : "info");
		List	   *lines = ts_pdf_wrap(p->font, 9, ts_pdf_utf8(message), text_w);

		CHECK_FOR_INTERRUPTS();
		for (char *c = badge; *c; c++)
			*c = pg_ascii_toupper((unsigned char) *c);
		ts_pdf_keep(p, list_length(lines) * 12.6f + (rule ? 10 : 0));
		ts_pdf_rect(p, TS_PDF_LEFT, p->y - 12, 58, 12, ts_pdf_severity_color(severity));
		ts_pdf_text_center(p, p->bold, 7, TS_PDF_LEFT + 29, p->y - 9, &ts_pdf_white,
						   ts_pdf_fit(p->bold, 7, badge, 54));
		ts_pdf_lines(p, p->font, 9, text_x, &ts_pdf_black, lines);
		if (rule != NULL)
		{
			ts_pdf_need(p, 10);
			ts_pdf_text(p, p->font, 7, text_x, p->y - 7, &ts_pdf_gray,
						ts_pdf_fit(p->font, 7, ts_pdf_str(rule), text_w));
			p->y -= 10;
		}
		p->y -= 6;
		ts_pdf_check(p, "drawing the recommendations");
	}
}
