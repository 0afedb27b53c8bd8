#!/bin/sh
# The test tools themselves: chrome-check and xml-check must reject what
# they exist to catch, or the export tests prove nothing.
. "${top_srcdir:-.}/tests/traces/lib.sh"

M='{"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"t"}}'
chrome() { printf '%s\n' "$2" >"$WORK/$1.json"; }
chrome good "{\"traceEvents\":[$M,
 {\"name\":\"a\",\"ph\":\"X\",\"ts\":1.5,\"dur\":2,\"pid\":1,\"tid\":1},
 {\"name\":\"b\",\"ph\":\"B\",\"ts\":4,\"pid\":1,\"tid\":2},
 {\"name\":\"b\",\"ph\":\"E\",\"ts\":5,\"pid\":1,\"tid\":2},
 {\"name\":\"c\",\"ph\":\"C\",\"ts\":0,\"pid\":1,\"tid\":0,\"args\":{\"v\":3}}]}"
chrome not-json "{\"traceEvents\":[$M,]}"
chrome no-events "{\"events\":[]}"
chrome x-no-dur "{\"traceEvents\":[$M,{\"name\":\"a\",\"ph\":\"X\",\"ts\":1,\"pid\":1,\"tid\":1}]}"
chrome backwards "{\"traceEvents\":[$M,{\"name\":\"a\",\"ph\":\"i\",\"ts\":2,\"pid\":1,\"tid\":1},
 {\"name\":\"b\",\"ph\":\"i\",\"ts\":1,\"pid\":1,\"tid\":1}]}"
chrome unbalanced "{\"traceEvents\":[$M,{\"name\":\"a\",\"ph\":\"B\",\"ts\":1,\"pid\":1,\"tid\":1}]}"
chrome bad-counter "{\"traceEvents\":[$M,{\"name\":\"c\",\"ph\":\"C\",\"ts\":1,\"pid\":1,\"tid\":0,\"args\":{\"v\":\"x\"}}]}"
check chrome-accepts-good "$CHROME_CHECK" "$WORK/good.json"
for c in not-json no-events x-no-dur backwards unbalanced bad-counter; do
	if "$CHROME_CHECK" "$WORK/$c.json" >/dev/null 2>&1; then bad "chrome-check accepted $c"; else ok "chrome-check rejects $c"; fi
done

xml() { printf '%s\n' "$2" >"$WORK/$1.svg"; }
xml good '<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">
<svg a="1" b='"'"'2'"'"'><!-- c --><g><text>&lt;x&gt; &#181; &#xb5;</text><![CDATA[ <&> ]]></g><g/></svg>'
xml mismatched '<svg><g></svg></g>'
xml unquoted '<svg a=1></svg>'
xml bare-amp '<svg>a & b</svg>'
xml two-roots '<svg></svg><svg></svg>'
xml text-outside '<svg></svg>x'
xml open-comment '<svg><!-- c </svg>'
xml unclosed '<svg><g>'
xml repeated-attr '<svg a="1" a="2"></svg>'
check xml-accepts-good "$XML_CHECK" "$WORK/good.svg" svg
if "$XML_CHECK" "$WORK/good.svg" html >/dev/null 2>&1; then bad "xml-check accepted the wrong root"; else ok "xml-check checks the root"; fi
for c in mismatched unquoted bare-amp two-roots text-outside open-comment unclosed repeated-attr; do
	if "$XML_CHECK" "$WORK/$c.svg" >/dev/null 2>&1; then bad "xml-check accepted $c"; else ok "xml-check rejects $c"; fi
done
finish
