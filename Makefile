# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates .venv on first use and installs the project into it.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test dev dev-spark jars install clean bench

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/subway-platform demo

dev: $(STAMP)
	$(VENV)/bin/subway-platform dev

# The Apache Spark engine's pinned jars (delta-spark, PostgreSQL JDBC, hadoop-aws), resolved
# once from Maven Central into ~/.cache/subway_platform/spark-jars/ (needs `mvn` once).
jars: $(STAMP)
	$(VENV)/bin/subway-platform spark-jars

dev-spark: jars
	$(VENV)/bin/subway-platform dev --engine spark

test: $(STAMP) jars
	$(VENV)/bin/python -m pytest subway_platform_tests

bench: $(STAMP)
	$(VENV)/bin/python -m benchmarks.run

clean:
	rm -rf $(VENV) .subway_state
