# PGXS build of the troubleshooting extension.
EXTENSION = troubleshooting
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = troubleshooting
OBJS = \
	src/troubleshooting.o \
	src/extschema.o \
	src/config.o \
	src/sessions.o \
	src/rollup.o \
	src/metrics_read.o \
	src/metrics.o \
	src/realtime.o \
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
	src/http/prometheus.o

DATA = $(wildcard $(EXTENSION)--*.sql)

# pg_regress tests (sql/NAME.sql, expected/NAME.out); run against a server that
# test/run starts with the library preloaded.
REGRESS = install sessions config config_cache metrics templates notifications payloads ml_training automation cleanup providers tracking

PG_CPPFLAGS = -I$(srcdir)/src
# -Wno-unused-parameter: PostgreSQL's own headers (bufpage.h) trip it under -Wextra.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter
SHLIB_LINK = -lcurl -lmicrohttpd -lm

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(wildcard src/*.h src/notify/*.h src/http/*.h)

.PHONY: test start
# The whole suite (installs dependencies, builds, starts its own cluster).
test:
	bash test/run
