/* traces/export_text.c: quoting names for JSON and CSV output.
 *
 * Names in a trace are arbitrary bytes chosen by producers.  JSON output
 * escapes quotes, backslashes, control bytes and every byte >= 0x80 (as
 * \u00XX, i.e. read as Latin-1), so the result is valid JSON whatever the
 * bytes are.  CSV output follows RFC 4180: a field holding a comma, quote
 * or line break is quoted, with quotes doubled.
 */
#include <string.h>
#include "traces/trace_export.h"

void json_string(FILE *out, const char *s)
{
	putc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			putc(*p, out);
	}
	putc('"', out);
}

void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	putc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', out);
		putc(*s, out);
	}
	putc('"', out);
}
