# The two commands a newcomer needs: `make demo` and `make test`.
# Each first checks the Debian packages it needs (scripts/bootstrap.sh: installed with
# apt-get when run as root; otherwise one line naming the command to run), then creates
# .venv on first use and installs the project into it.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
BOOTSTRAP := PYTHON=$(PYTHON) VENV=$(VENV) scripts/bootstrap.sh

# Prerequisites are made in the order written: system packages before the venv.
.NOTPARALLEL:
.PHONY: demo test dev dev-spark jars install clean bench system-deps system-deps-demo system-deps-spark

# Debian packages: everything the test suite needs (PostgreSQL's server binaries,
# Chromium for the dashboard's browser test, Java for the Apache Spark engine) ...
system-deps:
	@$(BOOTSTRAP) postgresql chromium java maven

# ... what the Apache Spark engine alone needs ...
system-deps-spark:
	@$(BOOTSTRAP) postgresql java maven

# ... what the demo and `dev` need ...
system-deps-demo:
	@$(BOOTSTRAP) postgresql

$(STAMP): pyproject.toml
	@echo "installing the project into $(VENV) (pip; on first use or when pyproject.toml changes, a few minutes)…"
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: system-deps-demo $(STAMP)
	$(VENV)/bin/subway-platform demo

dev: system-deps-demo $(STAMP)
	$(VENV)/bin/subway-platform dev

# The Apache Spark engine's pinned jars (delta-spark, PostgreSQL JDBC, hadoop-aws), resolved
# once from Maven Central into ~/.cache/subway_platform/spark-jars/ (progress shown).
jars: system-deps-spark $(STAMP)
	$(VENV)/bin/subway-platform spark-jars

dev-spark: jars
	$(VENV)/bin/subway-platform dev --engine spark

test: system-deps $(STAMP) jars
	$(VENV)/bin/python -m pytest --durations=25 subway_platform_tests

# The benchmark's JVM baseline and its Apache Spark cases use the same cached jars.
bench: jars
	$(VENV)/bin/python -m pip install --quiet -e '.[test,bench]'
	$(VENV)/bin/python -m benchmarks.run

clean:
	rm -rf $(VENV) .subway_state
