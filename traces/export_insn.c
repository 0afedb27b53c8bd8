/* traces/export_insn.c: the instruction trace as a disassembly listing.
 *
 * One line per insn record, disassembled by Capstone in 64-bit mode with
 * Intel syntax:
 *
 *     # time_us pc bytes instruction
 *     12.000200 0x0000000000101000 48c7c001000000  mov rax, 1
 *
 * Bytes Capstone cannot decode are listed as "(bad)".  The listing depends
 * only on the records and the Capstone version.
 */
#include <inttypes.h>
#include <capstone/capstone.h>
#include "traces/trace_export.h"
#include "traces/trace_scan.h"

int trace_export_insn(const char *path, FILE *out, char *err, size_t errlen)
{
	csh cs;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		snprintf(err, errlen, "%s: cannot start the Capstone disassembler", path);
		return -1;
	}
	struct trace_reader r;
	struct trace_event ev;
	int rc = trace_reader_open(&r, path);
	if (rc == 0)
		fputs("# time_us pc bytes instruction\n", out);
	while (rc == 0 && (rc = trace_reader_next(&r, &ev)) > 0) {
		rc = 0;
		if (ev.type != TR_INSN)
			continue;
		char t[32], hex[2 * TRACE_INSN_MAX + 1];
		for (unsigned i = 0; i < ev.len; i++)
			snprintf(hex + 2 * i, 3, "%02x", ev.bytes[i]);
		hex[2 * ev.len] = '\0';
		fprintf(out, "%s 0x%016" PRIx64 " %-30s ", fmt_us(t, ev.time), ev.a, hex);
		cs_insn *insn;
		size_t n = cs_disasm(cs, ev.bytes, ev.len, ev.a, 1, &insn);
		if (n == 0) {
			fputs("(bad)\n", out);
			continue;
		}
		if (insn[0].size != ev.len)
			fprintf(out, "%s%s%s  (+%u bytes)\n", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
				insn[0].op_str, ev.len - insn[0].size);
		else
			fprintf(out, "%s%s%s\n", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
				insn[0].op_str);
		cs_free(insn, n);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", r.err);
	trace_reader_close(&r);
	cs_close(&cs);
	return rc < 0 ? -1 : 0;
}
