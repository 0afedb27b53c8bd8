/* tests/traces/xml-check.c: is a file well-formed XML?
 *
 *     xml-check FILE [ROOT]
 *
 * A small checker for the SVG that gnuplot writes, so the tests need no
 * XML library: one root element (named ROOT if given), start and end tags
 * that match and nest, attributes written name="value" or name='value'
 * with no '<' inside and no name repeated in a tag, entity references that
 * are one of the five predefined ones or a character reference, and only
 * comments, processing instructions, a DOCTYPE (before the root) and white
 * space outside the root.  CDATA sections and comments are skipped.  It
 * does not check encodings or DTDs.  Prints the first problem with its
 * line number and exits 1; exits 0 when the file is well-formed.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *path;
static const char *text, *p;
static char **stack;
static size_t depth, cap;

static int line_of(const char *at)
{
	int n = 1;
	for (const char *q = text; q < at; q++)
		n += *q == '\n';
	return n;
}

static void fail(const char *at, const char *what)
{
	fprintf(stderr, "%s:%d: not well-formed XML: %s\n", path, line_of(at), what);
	exit(1);
}

static bool name_start(int c)
{
	return isalpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static bool name_char(int c)
{
	return name_start(c) || isdigit(c) || c == '-' || c == '.';
}

/* Parse a name at p; returns its length. */
static size_t name(void)
{
	const char *s = p;
	if (!name_start((unsigned char)*p))
		fail(p, "expected a name");
	while (name_char((unsigned char)*p))
		p++;
	return (size_t)(p - s);
}

static void skip_ws(void)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
}

/* An entity or character reference at p (p at '&'), up to stop. */
static void reference(void)
{
	const char *s = p++;
	if (*p == '#') {
		p++;
		bool hex = *p == 'x';
		p += hex;
		const char *d = p;
		while (hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p))
			p++;
		if (p == d || *p != ';')
			fail(s, "bad character reference");
		p++;
		return;
	}
	static const char *const known[] = {"lt;", "gt;", "amp;", "quot;", "apos;"};
	for (size_t i = 0; i < 5; i++) {
		if (strncmp(p, known[i], strlen(known[i])) == 0) {
			p += strlen(known[i]);
			return;
		}
	}
	fail(s, "unknown entity or a bare '&'");
}

static void skip_past(const char *end, const char *what)
{
	const char *e = strstr(p, end);
	if (!e)
		fail(p, what);
	p = e + strlen(end);
}

static void start_tag(void)
{
	const char *tag = ++p;
	size_t n = name();
	char *attrs[256];
	size_t nattrs = 0;
	for (;;) {
		bool ws = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
		skip_ws();
		if (*p == '/' && p[1] == '>') {
			p += 2;
			break;
		}
		if (*p == '>') {
			p++;
			if (depth == cap) {
				cap = cap ? cap * 2 : 64;
				stack = realloc(stack, cap * sizeof *stack);
			}
			stack[depth++] = strndup(tag, n);
			break;
		}
		if (!ws)
			fail(p, "attributes must be separated by white space");
		const char *an = p;
		size_t alen = name();
		for (size_t i = 0; i < nattrs; i++)
			if (strlen(attrs[i]) == alen && strncmp(attrs[i], an, alen) == 0)
				fail(an, "attribute repeated in one tag");
		if (nattrs < 256)
			attrs[nattrs++] = strndup(an, alen);
		skip_ws();
		if (*p++ != '=')
			fail(p - 1, "attribute without '='");
		skip_ws();
		char q = *p++;
		if (q != '"' && q != '\'')
			fail(p - 1, "attribute value not quoted");
		while (*p != q) {
			if (!*p || *p == '<')
				fail(p, "unterminated attribute value or '<' inside it");
			if (*p == '&')
				reference();
			else
				p++;
		}
		p++;
	}
	for (size_t i = 0; i < nattrs; i++)
		free(attrs[i]);
}

static void end_tag(void)
{
	const char *at = p;
	p += 2;
	const char *s = p;
	size_t n = name();
	skip_ws();
	if (*p++ != '>')
		fail(at, "bad end tag");
	if (depth == 0)
		fail(at, "end tag with no open element");
	char *open = stack[--depth];
	if (strlen(open) != n || strncmp(open, s, n) != 0)
		fail(at, "end tag does not match the open element");
	free(open);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: xml-check FILE [ROOT]\n");
		return 2;
	}
	path = argv[1];
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot read\n", path);
		return 1;
	}
	size_t len = 0, bufcap = 1 << 16, got;
	char *buf = malloc(bufcap);
	while ((got = fread(buf + len, 1, bufcap - len - 1, f)) > 0) {
		len += got;
		if (len + 1 == bufcap)
			buf = realloc(buf, bufcap *= 2);
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len)
		fail(buf + strlen(buf), "NUL byte in the file");
	text = p = buf;

	bool seen_root = false;
	while (*p) {
		if (*p == '<') {
			if (strncmp(p, "<!--", 4) == 0) {
				p += 4;
				skip_past("-->", "unterminated comment");
			} else if (strncmp(p, "<?", 2) == 0) {
				p += 2;
				skip_past("?>", "unterminated processing instruction");
			} else if (strncmp(p, "<![CDATA[", 9) == 0) {
				if (depth == 0)
					fail(p, "CDATA outside the root element");
				p += 9;
				skip_past("]]>", "unterminated CDATA section");
			} else if (strncmp(p, "<!DOCTYPE", 9) == 0) {
				if (seen_root)
					fail(p, "DOCTYPE after the root element");
				int nest = 0;
				for (p += 9; *p && !(*p == '>' && nest == 0); p++)
					nest += (*p == '[') - (*p == ']');
				if (!*p)
					fail(p, "unterminated DOCTYPE");
				p++;
			} else if (p[1] == '/') {
				end_tag();
			} else {
				if (depth == 0) {
					if (seen_root)
						fail(p, "a second root element");
					seen_root = true;
					if (argc == 3 && (strncmp(p + 1, argv[2], strlen(argv[2])) != 0 ||
							  name_char((unsigned char)p[1 + strlen(argv[2])])))
						fail(p, "root element is not the one expected");
				}
				start_tag();
			}
		} else if (depth == 0) {
			if (!isspace((unsigned char)*p))
				fail(p, "text outside the root element");
			p++;
		} else if (*p == '&') {
			reference();
		} else {
			p++;
		}
	}
	if (depth)
		fail(p, "the file ends inside an element");
	if (!seen_root)
		fail(p, "no root element");
	free(buf);
	free(stack);
	return 0;
}
