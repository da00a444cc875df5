# PGXS build of the troubleshooting extension.
EXTENSION = troubleshooting
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = troubleshooting
# every C file under src/ (a folder per subsystem)
SRCS = $(sort $(shell find src -name '*.c'))
OBJS = $(SRCS:.c=.o)

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

$(OBJS): $(filter-out %/dashboard_html.h,$(shell find src -name '*.h'))

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
