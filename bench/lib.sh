# bench/lib.sh: what the bench/ scripts that run the Phantom guest share
# (sourced, POSIX sh).  Figures come from trace summaries (`phantom-sim
# trace export --format summary`, docs/traces.md), whose keys are always
# present and always in the same order, so plain sed reads them.
#
#   BENCH_SIM                 the simulator: $PHANTOM_SIM, else build/phantom-sim
#   BENCH_CONFIGS             the shipped configs: $PHANTOM_CONFIGS, else
#                             configs/ beside this directory
#   bench_backend NAME        the config and --set overrides of a backend
#   bench_run WORK OUT CONFIG CMDLINE MAX_US [ARG...]
#                             one run recording OUT.trace, OUT.summary
#                             (the simulator runs in WORK, see below)
#   summary_stat FILE KEY F   F (count, mean, p50, p90, p99, max) of the
#                             first statistics object named KEY
#   summary_value FILE KEY    the first scalar named KEY
#   bench_gnuplot DIR SCRIPT  run gnuplot on DIR/SCRIPT the way
#                             `phantom-sim trace plot` does

bench_dir=$(cd "$(dirname "$0")" && pwd)
BENCH_SIM=${PHANTOM_SIM:-build/phantom-sim}
BENCH_CONFIGS=${PHANTOM_CONFIGS:-$bench_dir/../configs}

# bench_backend NAME: sets bench_config (a file in BENCH_CONFIGS), bench_sets
# (extra --set words) and bench_store (the guest's backend= value, with
# the config's frames=: a guest.cmdline given with --set replaces the
# config's).  Backends: optane-adr, optane-eadr, nvme, sata (docs/papers.md).
bench_backend() {
	bench_sets=
	case $1 in
	optane-adr)  bench_config=optane.json bench_store="pmem frames=pm" ;;
	optane-eadr) bench_config=eadr.json bench_store="pmem frames=pm" ;;
	nvme)        bench_config=nvme.json bench_store=disk ;;
	sata)        bench_config=nvme.json bench_store=disk bench_sets="--set block.preset=sata" ;;
	*) echo "bench: unknown backend '$1' (optane-adr, optane-eadr, nvme, sata)" >&2; return 1 ;;
	esac
}

# bench_abspath PATH: PATH, made absolute against the current directory.
bench_abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$PWD/$1" ;;
	esac
}

# bench_run WORK OUT CONFIG CMDLINE MAX_US [ARG...]: run the guest on
# CONFIG with fresh images in WORK for at most MAX_US simulated µs, record
# OUT.trace and write its summary to OUT.summary; ARGs go to phantom-sim
# (--set, --seed).  The simulator's console and stderr go to OUT.log.
# Fails when no trace or summary came out.
#
# The image and trace file names are part of the effective config, whose
# hash the trace carries and its digest covers, so the simulator runs in
# WORK and always sees the same names: pm.img, disk.img and run.trace
# (moved to OUT.trace afterwards).  The same config, cmdline and ARGs
# thus give the same trace digest wherever WORK and OUT are.  The
# simulator, CONFIG and OUT may be relative to the current directory; a
# relative path inside an ARG would be taken relative to WORK.
bench_run() {
	_w=$1 _out=$(bench_abspath "$2") _cfg=$(bench_abspath "$3") _cmdline=$4 _us=$5
	shift 5
	case $BENCH_SIM in
	/*|*/*) _sim=$(bench_abspath "$BENCH_SIM") ;;
	*) _sim=$BENCH_SIM ;;   # a bare name: found on PATH
	esac
	rm -f "$_w/pm.img" "$_w/disk.img" "$_w/run.trace" "$_out.trace" "$_out.summary"
	(cd "$_w" && exec "$_sim" --config "$_cfg" --set pmem.image=pm.img --set block.image=disk.img \
		--set run.max_time_us="$_us" --set "guest.cmdline=$_cmdline" "$@" \
		--trace run.trace) >"$_out.log" 2>&1
	_rc=$?
	rm -f "$_w/pm.img" "$_w/disk.img"
	if [ -f "$_w/run.trace" ] && ! mv -f "$_w/run.trace" "$_out.trace" 2>>"$_out.log"; then
		[ "$_rc" -ne 0 ] || _rc=3
	fi
	if [ "$_rc" -ne 0 ] || ! "$_sim" trace export --format summary "$_out.trace" \
		-o "$_out.summary" 2>>"$_out.log"; then
		echo "bench: run failed (exit $_rc), see $_out.log" >&2
		return 1
	fi
}

summary_stat() {
	grep -m1 "\"$2\": {\"count\"" "$1" | sed -n "s/.*\"$3\": \([0-9.]*\).*/\1/p"
}

summary_value() {
	grep -m1 "\"$2\": " "$1" | sed -n "s/.*\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p"
}

# The same conventions as traces/trace_plot.c: GNUPLOT names the binary,
# the script runs in its directory, and SOURCE_DATE_EPOCH=0 keeps the
# host's clock out of the PDF.
bench_gnuplot() {
	_gp=${GNUPLOT:-gnuplot}
	if ! command -v "$_gp" >/dev/null 2>&1; then
		echo "bench: gnuplot not found (looked for '$_gp'); install it (Debian: apt-get install gnuplot-nox) or set GNUPLOT" >&2
		return 3
	fi
	(cd "$1" && SOURCE_DATE_EPOCH=0 "$_gp" "$2")
}
