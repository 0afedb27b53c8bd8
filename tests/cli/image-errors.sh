#!/bin/sh
# Image files that do not fit the config are refused with one line naming
# the file, the size expected and the config key that sets it (exit status
# 2), and are left as they were (docs/crash-model.md, "Image files").  A
# raw image has no header to corrupt: what can be wrong with it is its
# size or its kind, and both are checked before anything runs.
. "${top_srcdir:-.}/tests/cli/lib.sh"

cat >"$WORK/m.json" <<EOF
{
  "memory": { "dram_mb": 16 },
  "pmem": { "enabled": true, "size_mb": 1, "image": "$WORK/pm.img" },
  "block": { "enabled": true, "size_mb": 1, "image": "$WORK/disk.img" },
  "serial": { "output": "none" },
  "run": { "max_time_us": 1 }
}
EOF

# same FILE COPY: FILE still holds exactly what COPY holds.
same() {
	if cmp -s "$1" "$2"; then ok "$3: left untouched"; else bad "$3: the image was modified"; fi
}

# A PM image one page short, with data in it (a truncated copy, say).
head -c 1044480 /dev/urandom >"$WORK/pm.img"
cp "$WORK/pm.img" "$WORK/pm.orig"
expect_fail "short PM image" 2 "pm.img: the image has 1044480 bytes, expected 1048576 (pmem.size_mb = 1)" -- \
	"$SIM" --config "$WORK/m.json"
same "$WORK/pm.img" "$WORK/pm.orig" "short PM image"
# Too long: an image made for a bigger region.
head -c 2097152 /dev/urandom >"$WORK/pm.img"
cp "$WORK/pm.img" "$WORK/pm.orig"
expect_fail "PM image of another size" 2 "the image has 2097152 bytes, expected 1048576 (pmem.size_mb = 1)" -- \
	"$SIM" --config "$WORK/m.json"
same "$WORK/pm.img" "$WORK/pm.orig" "PM image of another size"
# Not a file.
rm -f "$WORK/pm.img"
mkdir "$WORK/pm.img"
expect_fail "PM image is a directory" 2 "pm.img: not a regular file; expected an image of 1048576 bytes (pmem.size_mb = 1)" -- \
	"$SIM" --config "$WORK/m.json"
rmdir "$WORK/pm.img"
# Its directory is missing: nothing can be created.
expect_fail "PM image in a missing directory" 2 "$WORK/none/pm.img: cannot create the image" -- \
	"$SIM" --config "$WORK/m.json" --set pmem.image="$WORK/none/pm.img"

# The disk: a good PM image first, then a wrong-sized disk.
rm -f "$WORK/pm.img"
head -c 1000 /dev/urandom >"$WORK/disk.img"
cp "$WORK/disk.img" "$WORK/disk.orig"
expect_fail "disk image of another size" 2 "disk.img: the image has 1000 bytes, expected 1048576 (block.size_mb = 1)" -- \
	"$SIM" --config "$WORK/m.json"
same "$WORK/disk.img" "$WORK/disk.orig" "disk image of another size"

# A dangling symbolic link is no image either.
ln -s "$WORK/nowhere/x" "$WORK/link.img"
expect_fail "PM image is a dangling link" 2 "link.img: cannot create the image" -- \
	"$SIM" --config "$WORK/m.json" --set pmem.image="$WORK/link.img" --set block.enabled=false

# Unreadable (meaningless as root, who reads everything).
if [ "$(id -u)" -ne 0 ]; then
	head -c 1048576 /dev/zero >"$WORK/pm.img"
	chmod 000 "$WORK/pm.img"
	expect_fail "unreadable PM image" 2 "pm.img: cannot read the image" -- \
		"$SIM" --config "$WORK/m.json" --set block.enabled=false
	chmod 600 "$WORK/pm.img"
fi
finish
