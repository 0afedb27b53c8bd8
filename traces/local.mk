# traces/: the trace recorder, reader and exports (docs/traces.md).
libphantom_a_SOURCES += \
	traces/trace.h traces/trace_writer.c \
	traces/trace_reader.h traces/trace_reader.c \
	traces/trace_scan.h traces/trace_scan.c \
	traces/trace_export.h traces/export_text.c \
	traces/export_chrome.c traces/export_csv.c \
	traces/export_summary.c traces/export_insn.c \
	traces/trace_plot.c

# Test tools: a synthetic trace generator and checkers for the exports.
check_PROGRAMS += tests/traces/gen-trace tests/traces/chrome-check tests/traces/xml-check
tests_traces_gen_trace_SOURCES = tests/traces/gen-trace.c
tests_traces_chrome_check_SOURCES = tests/traces/chrome-check.c
tests_traces_xml_check_SOURCES = tests/traces/xml-check.c

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_traces
TESTS += tests/unit/test_traces
tests_unit_test_traces_SOURCES = tests/unit/test_traces.c
tests_unit_test_traces_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_traces_LDADD = $(LDADD) $(CHECK_LIBS)
endif

TESTS += tests/traces/export.sh tests/traces/errors.sh tests/traces/plot.sh tests/traces/checkers.sh \
	tests/traces/insn.sh tests/traces/opt-levels.sh tests/traces/sweep.sh tests/traces/persist.sh
EXTRA_DIST += tests/traces/lib.sh tests/traces/export.sh tests/traces/errors.sh tests/traces/plot.sh \
	tests/traces/checkers.sh tests/traces/insn.sh tests/traces/opt-levels.sh tests/traces/sweep.sh \
	tests/traces/persist.sh
