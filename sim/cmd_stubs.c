/* TEMPORARY (removed before the session's final commit): placeholders
 * until sim/cmd_user.c and sim/cmd_trace.c land. */
#include <stdio.h>
#include "sim/cli.h"
__attribute__((weak)) int cmd_user(int argc, char **argv) { fprintf(stderr, "user: not built\n"); return 2; }
__attribute__((weak)) int cmd_trace(int argc, char **argv) { fprintf(stderr, "trace: not built\n"); return 2; }
