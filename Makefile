# Tributary's two everyday commands are `make demo` and `make test`; the rest are their parts.
# Everything a fresh clone needs is installed by these targets (Python 3.10+ is all it assumes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MELTANO := $(BIN)/meltano
# Plugin venvs compile their bytecode once at install: this machine's PYTHONDONTWRITEBYTECODE=1
# would otherwise make every plugin start recompile (~40% slower runs).
export UV_COMPILE_BYTECODE := 1

.PHONY: help install install-prod demo demo-businesses demo-reset test test-slow test-fast bench bench-shopify-100k warehouse-start warehouse-stop sandbox-start sandbox-stop stop status clean

help:
	@echo "make demo            run the whole pipeline on the sandbox into a local warehouse"
	@echo "make demo-businesses the demo with two businesses: two of each source in one warehouse"
	@echo "make test            run the test suite (starts its own warehouse and sandbox)"
	@echo "make test-fast       the inner loop: tests that need no pipeline run, Attio end to end, the taps' suites"
	@echo "make test-slow       the slow reliability cases (retry waits of minutes), not in CI's default run"
	@echo "make bench           run the benchmarks, results in bench/results/"
	@echo "make bench-shopify-100k  Shopify bulk vs paged backfill of 100,000 orders (15-30 min)"
	@echo "make stop            stop the demo's warehouse and sandbox"
	@echo "make demo-reset      start the demo over: new warehouse, new sandbox world, no bookmarks"
	@echo "make warehouse-start | warehouse-stop | sandbox-start | sandbox-stop | status"

# The project venv (Meltano, the sandbox, the test tools) and every Meltano plugin's own venv.
# What our taps share (extract/tap-support), with its own suite.
TAP_SUPPORT := extract/tap-support
# Our own taps, found: every extract/tap-*/ package but that one and the wrappers of community
# taps. Each carries its own suite (run by `make test`) and has its benchmark, bench/<name>_tap.py.
OUR_TAPS := $(sort $(filter-out $(TAP_SUPPORT) %-wrapper,$(patsubst %/pyproject.toml,%,$(wildcard extract/tap-*/pyproject.toml))))
TAP_BENCHMARKS := $(sort $(wildcard bench/*_tap.py))

# The Python check and the venv, shared by both installs.
define make_venv
@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed (found %s)" % sys.version.split()[0])'
test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
$(BIN)/pip install --quiet --upgrade pip
endef

# Development and tests: production's requirements, the sandbox and the test tools
# (requirements-dev.txt), our taps and what they share with their test extras (so `make test` runs
# their suites); then every plugin's venv.
$(VENV)/.installed: requirements.txt requirements-dev.txt plugins/*/*.lock extract/sandbox/pyproject.toml $(TAP_SUPPORT)/pyproject.toml $(OUR_TAPS:%=%/pyproject.toml) meltano.yml */*.meltano.yml
	$(make_venv)
	$(BIN)/pip install --quiet -r requirements-dev.txt $(foreach package,$(TAP_SUPPORT) $(OUR_TAPS),-e './$(package)[testing]')
	$(MELTANO) install
	chmod 700 .meltano  # its run/ folder holds each running plugin's config, credentials included
	touch $@

install: $(VENV)/.installed

# Production (the Dockerfile's one install step): Meltano and what orchestrate/ and load/ import
# (requirements.txt), then every plugin's venv; nothing of the sandbox or the tests.
$(VENV)/.installed-prod: requirements.txt plugins/*/*.lock meltano.yml */*.meltano.yml
	$(make_venv)
	$(BIN)/pip install --quiet -r requirements.txt
	$(MELTANO) install
	chmod 700 .meltano
	touch $@

install-prod: $(VENV)/.installed-prod

# The operations targets (full, transform, …) keep a production install production's: on a host
# installed with install-prod they never pull in the development tools.
OPS_INSTALL := $(if $(wildcard $(VENV)/.installed-prod),install-prod,install)

warehouse-start: install
	@$(BIN)/python load/warehouse.py start

warehouse-stop:
	@test ! -x $(BIN)/python || $(BIN)/python load/warehouse.py stop

sandbox-start: install
	@$(BIN)/python -m tributary_sandbox start

sandbox-stop:
	@test ! -x $(BIN)/python || $(BIN)/python -m tributary_sandbox stop

stop: sandbox-stop warehouse-stop

status:
	@$(BIN)/python load/warehouse.py status; $(BIN)/python -m tributary_sandbox status

# Every source's job, then cross-source (source-jobs: each job that extracts, in Meltano's order).
# Each job is `meltano run <job>` (under its lock), its whole output in output/logs/demo/, the
# terminal showing per job what loads, how far and how fast (orchestrate/progress.py).
demo: warehouse-start sandbox-start
	$(BIN)/python orchestrate/progress.py source-jobs cross-source
	@$(BIN)/python orchestrate/warehouse_summary.py
	@$(BIN)/python -m tributary_sandbox score   # the sandbox's own check: nothing in orchestrate/ imports it

# `make demo` for two businesses: the sandbox serves a second company, workspace, GA4 property and
# shop beside the first (SANDBOX_INSTANCES), each loaded by its own extractor (tap-<source>--second,
# extract/extractors.meltano.yml) in its own job run (<job>--second), the models reading both
# (TRIBUTARY_<SOURCE>_SCHEMAS; README, "Several businesses in one warehouse"), then the
# cross-source job, per business. `make demo` afterwards goes back to one business.
DEMO_SECOND = quickbooks attio ga4 shopify
demo-businesses: export TRIBUTARY_QUICKBOOKS_SCHEMAS = raw_quickbooks,raw_quickbooks_second
demo-businesses: export TRIBUTARY_ATTIO_SCHEMAS = raw_attio,raw_attio_second
demo-businesses: export TRIBUTARY_GA4_SCHEMAS = raw_ga4,raw_ga4_second
demo-businesses: export TRIBUTARY_SHOPIFY_SCHEMAS = raw_shopify,raw_shopify_second
demo-businesses: warehouse-start install
	@$(BIN)/python -m tributary_sandbox stop   # a sandbox started without the second business
	SANDBOX_INSTANCES=quickbooks:second,attio:second,ga4:second,shopify:second $(BIN)/python -m tributary_sandbox start
	$(BIN)/python orchestrate/progress.py source-jobs $(DEMO_SECOND:%=%--second) cross-source
	@$(BIN)/python orchestrate/warehouse_summary.py

# The project's suite runs on TEST_WORKERS pytest-xdist workers, each handed whole modules (their
# fixtures load a world once per module) longest first (tests/conftest.py), each on a stack of its
# own (ports 10 apart, .test-run/<worker>/). Three workers on two cores: much of an end-to-end test
# is waiting (on a vendor's Retry-After, a subprocess starting), which a third worker fills.
TEST_WORKERS ?= 3
PYTEST_PARALLEL = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# Every run lists its slowest cases: what to move to `make test-slow` when the suite nears its budget.
PYTEST_DURATIONS = --durations=40 --durations-min=20
# When make started: `make test` and `make test-fast` end by printing their wall time, install included.
MAKE_STARTED := $(shell date +%s)
# $(call run_suites,PYTEST ARGS): the project's suite with those arguments, then each tap's own
# suite (two workers: they simulate their API in-process, so they use both cores); every suite runs
# even when one fails, and the last lines say which failed and the wall time.
define run_suites
failed=""; \
echo '$(BIN)/python -m pytest $(1) $(PYTEST_PARALLEL) $(PYTEST_DURATIONS)'; \
$(BIN)/python -m pytest $(1) $(PYTEST_PARALLEL) $(PYTEST_DURATIONS) || failed="$$failed tests"; \
for suite in $(TAP_SUPPORT) $(OUR_TAPS); do \
  echo "(cd $$suite && pytest -q -n 2)"; (cd $$suite && $(CURDIR)/$(BIN)/python -m pytest -q -n 2) || failed="$$failed $$suite"; \
done; \
echo "make $@: $$(( $$(date +%s) - $(MAKE_STARTED) )) s wall time, install included (load average $$(cut -d' ' -f1-3 /proc/loadavg))"; \
if [ -n "$$failed" ]; then echo "make $@: FAILED:$$failed"; exit 1; fi
endef

# Cases marked `slow` (minutes each: the community QuickBooks tap's fixed 60 s retry waits, taps
# retrying a dead URL, a kill -9 of QuickBooks) run with `make test-slow`, not in CI's default run.
test: install
	@$(call run_suites,tests -m "not slow")

# The inner loop: the project's tests that need no pipeline run, one source end to end (Attio,
# through its real `meltano run` job), and our taps' own suites.
test-fast: install
	@$(call run_suites,tests --ignore=tests/e2e tests/e2e/test_attio_pipeline.py -m "not slow")

test-slow: install
	$(BIN)/python -m pytest tests -m slow $(PYTEST_PARALLEL) $(PYTEST_DURATIONS)

# Every benchmark, one after the other (each starts its own stack on its own ports), then one
# summary with the machine's facts: bench/results/summary.json and the table in bench/RESULTS.md.
bench: install
	$(BIN)/python bench/quickbooks.py
	for benchmark in $(TAP_BENCHMARKS); do $(BIN)/python $$benchmark || exit 1; done
	$(BIN)/python bench/target_postgres.py
	$(BIN)/python bench/end_to_end.py --mode concurrent
	$(BIN)/python bench/summary.py

# Not part of `make bench`: the paged half alone takes 7+ minutes.
bench-shopify-100k: install
	$(BIN)/python bench/shopify_backfill.py --orders 100000

# Start the demo over: a new warehouse, a new sandbox world, no Meltano bookmarks and no stored
# QuickBooks refresh token. (Dropping only the warehouse would leave the bookmarks, and the next
# run would load just what changed; a token rotated by the old sandbox means nothing to a new one.)
demo-reset: stop
	rm -rf .warehouse .sandbox .meltano/quickbooks .meltano/meltano.db .meltano/meltano.db-wal .meltano/meltano.db-shm

clean: stop
	rm -rf .warehouse .sandbox .meltano $(VENV) transform/target transform/logs

# -- Operations (orchestrate/): every source at once, data quality, schedules that fire ------------
.PHONY: full transform data-quality cron-print cron-install cron-uninstall dagster

full: $(OPS_INSTALL)            # every source, one failing source stopping no other, then cross-source
	$(BIN)/python orchestrate/run_all.py

transform: $(OPS_INSTALL)       # rebuild and test every model
	$(BIN)/python orchestrate/run.py --wait transform

data-quality: $(OPS_INSTALL)    # freshness + every test; the report lands in output/data-quality/
	$(BIN)/python orchestrate/run.py --wait data-quality

cron-print: $(OPS_INSTALL)      # the crontab lines Meltano's schedules give
	$(BIN)/python orchestrate/cron.py print

cron-install: $(OPS_INSTALL)    # fire the schedules from your crontab (MELTANO_ENVIRONMENT picks the environment)
	$(BIN)/python orchestrate/cron.py install

cron-uninstall:
	$(BIN)/python orchestrate/cron.py uninstall

dagster: $(OPS_INSTALL)         # Dagster's UI and schedule daemon on Meltano's jobs and schedules, http://127.0.0.1:3000
	$(MELTANO) invoke dagster:dev
