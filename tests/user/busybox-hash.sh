#!/bin/sh
# Busybox hash applets over a 4 MiB generated file, file and stdin.
. "${top_srcdir:-.}/tests/user/lib.sh"
need_busybox
BB=$BUSYBOX

gen_file "$WORK/data" 4194304
same_as_native sha256sum /dev/null "$BB" sha256sum "$WORK/data"
same_as_native sha1sum "$WORK/data" "$BB" sha1sum
same_as_native md5sum /dev/null "$BB" md5sum "$WORK/data"
finish
