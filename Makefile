# PGXS build of the troubleshooting extension.
EXTENSION = troubleshooting
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = troubleshooting
OBJS = \
	src/troubleshooting.o \
	src/extschema.o \
	src/config.o \
	src/config_normalize.o \
	src/sessions.o \
	src/rollup.o \
	src/metrics_read.o \
	src/metrics.o \
	src/realtime.o \
	src/worker/worker.o \
	src/worker/registry.o \
	src/worker/launcher.o \
	src/worker/utility.o \
	src/maintenance.o \
	src/cleanup.o \
	src/notify/template.o \
	src/notify/render.o \
	src/notify/queue.o \
	src/notify/address.o \
	src/notify/content.o \
	src/notify/providers.o \
	src/notify/payload.o \
	src/notify/provider_request.o \
	src/notify/urlpolicy.o \
	src/notify/shmem.o \
	src/notify/claim.o \
	src/notify/dispatcher.o \
	src/notify/outcome.o \
	src/http/server.o \
	src/http/endpoints.o \
	src/http/prometheus.o \
	src/http/dashboard.o \
	src/report/generate.o \
	src/report/report_data.o \
	src/report/rollup_contrib.o \
	src/report/rollup_batch.o \
	src/report/rollup_triggers.o \
	src/report/rollup_read.o \
	src/report/rollup_scan.o \
	src/report/report_trends.o \
	src/report/export.o \
	src/report/export_csv.o \
	src/report/export_pdf.o \
	src/report/export_pdf_parts.o \
	src/report/schedule.o \
	src/report/schedule_time.o \
	src/report/llm.o

DATA = $(wildcard $(EXTENSION)--*.sql)

# pg_regress tests (sql/NAME.sql, expected/NAME.out); run against a server that
# test/run starts with the library preloaded.
# The listed ones run first, in this order; any other sql/*.sql runs after them.
REGRESS_FIRST = install sessions config config_cache metrics templates notifications payloads ml_training automation cleanup providers tracking reports report_export report_schedules
REGRESS = $(REGRESS_FIRST) $(filter-out $(REGRESS_FIRST),$(sort $(basename $(notdir $(wildcard $(srcdir)/sql/*.sql)))))

PG_CPPFLAGS = -I$(srcdir)/src
# -Wno-unused-parameter: PostgreSQL's own headers (bufpage.h) trip it under -Wextra.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter
SHLIB_LINK = -lcurl -lmicrohttpd -lhpdf -lm

# generated from src/http/dashboard.html (rule below)
EXTRA_CLEAN = src/http/dashboard_html.h src/http/dashboard_html.h.tmp

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(filter-out src/http/dashboard_html.h,$(wildcard src/*.h src/notify/*.h src/http/*.h src/report/*.h))

# The dashboard page (GET /), embedded as a byte array generated from its source.
src/http/dashboard.o src/http/dashboard.bc: src/http/dashboard_html.h
src/http/dashboard_html.h: src/http/dashboard.html
	{ printf '/* generated from src/http/dashboard.html by the Makefile; do not edit */\n'; \
	  printf 'static const unsigned char ts_dashboard_html[] = {\n'; \
	  od -An -v -tx1 $< | sed -e 's/[[:space:]]*\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  printf '};\n'; } > $@.tmp && mv $@.tmp $@

.PHONY: test start print-regress
# The pg_regress tests in the order they run (read by test/run).
print-regress:
	@echo $(REGRESS)

# The whole suite (installs dependencies, builds, starts its own cluster).
test:
	bash test/run
