/* traces/trace_export.h: turning a trace file into something people open.
 *
 * Each export reads the trace at `path` once and writes to `out`.  They
 * assume the trace was validated first (trace_validate()), but still stop
 * with a message in err if the file turns out bad.  Every output depends
 * only on the trace's bytes: no host time, no addresses, and numbers are
 * printed with fixed precision from integer picoseconds.  Formats are in
 * docs/traces.md.
 */
#ifndef TRACES_TRACE_EXPORT_H
#define TRACES_TRACE_EXPORT_H

#include <stdio.h>
#include <stddef.h>

/* Chrome Trace Event JSON, for ui.perfetto.dev and chrome://tracing. */
int trace_export_chrome(const char *path, FILE *out, char *err, size_t errlen);
/* The fixed first lines of the two CSV tables (no newline). */
extern const char trace_csv_events_header[];
extern const char trace_csv_snapshots_header[];

/* One CSV row per event. */
int trace_export_csv(const char *path, FILE *out, char *err, size_t errlen);
/* One CSV row per snapshot, with its phase breakdown. */
int trace_export_csv_snapshots(const char *path, FILE *out, char *err, size_t errlen);
/* Latency, pause, byte and count statistics as one JSON object. */
int trace_export_summary(const char *path, FILE *out, char *err, size_t errlen);
/* Capstone listing of the instruction-trace records. */
int trace_export_insn(const char *path, FILE *out, char *err, size_t errlen);

/* Write latency-cdf and latency-time figures (.dat, .gp, .pdf, .svg) into
 * dir through gnuplot.  Returns 0; -1 with err for bad input; -2 with err
 * when gnuplot is missing or fails, or dir cannot be written. */
int trace_plot(const char *path, const char *dir, char *err, size_t errlen);

/* Quoting shared by the exports (export_text.c). */
void json_string(FILE *out, const char *s);
void csv_field(FILE *out, const char *s);

#endif
