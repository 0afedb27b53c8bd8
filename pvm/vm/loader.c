/* pvm/vm/loader.c: load a class image (written by pvm-asm) into the space.
 *
 * The format follows Phantom's .pc files (phantom/vm/load_class.c, with the
 * Genode port's 4-byte size): a sequence of records
 *
 *     "phfr:"  type:u8  size:u32be (whole record)  payload
 *
 * with big-endian int32s and strings as int32 length + bytes.  Types:
 *   'C'  class header: name, n_fields (inherited ones included),
 *        n_methods (vtable size), parent name ("" = .internal.void)
 *   'M'  method: name, ordinal, then the bytecode to the end of the record
 *   'f'  field names: repeated (name, ordinal)
 *   'l'  IP-to-line map (ordinal, count, (ip, line) pairs): ignored here
 * Unknown types are skipped.  A 'C' record starts a new class, so an image
 * may hold several classes; a parent must come before its children.
 */
#include "pvm/vm/vm.h"

struct rd {
	const unsigned char *p, *end;
	int bad;
};

static uint32_t rd_u32(struct rd *r)
{
	if (r->end - r->p < 4) {
		r->bad = 1;
		return 0;
	}
	uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return v;
}

static const unsigned char *rd_str(struct rd *r, uint32_t *len)
{
	*len = rd_u32(r);
	if (r->bad || *len > (uint32_t)(r->end - r->p)) {
		r->bad = 1;
		return 0;
	}
	const unsigned char *s = r->p;
	r->p += *len;
	return s;
}

/* Make an array of n nulls (method/field name tables). */
static pvm_ref null_array(uint32_t n)
{
	pvm_ref a = pvm_new_array(n);
	for (uint32_t i = 0; a && i < n; i++)
		if (pvm_array_append(a, 0) < 0)
			return 0;
	return a;
}

static int set_name(pvm_ref arr, uint32_t i, const unsigned char *s, uint32_t len)
{
	if (!arr || i >= pvm_array_size(arr))
		return -1;
	pvm_ref str = pvm_new_string(s, len);
	if (!str)
		return -1;
	struct data_area_4_array *d = PVM_DA(arr, data_area_4_array);
	pvm_slots(d->page)[i] = str;
	return 0;
}

int pvm_load_image(const unsigned char *img, size_t n)
{
	struct rd r = { img, img + n, 0 };
	pvm_ref cls = 0;
	while (r.p < r.end) {
		if (r.end - r.p < 10 || r.p[0] != 'p' || r.p[1] != 'h' || r.p[2] != 'f' || r.p[3] != 'r' ||
		    r.p[4] != ':')
			return -1;
		unsigned char type = r.p[5];
		struct rd h = { r.p + 6, r.end, 0 };
		uint32_t size = rd_u32(&h);
		if (size < 10 || size > (uint32_t)(r.end - r.p))
			return -1;
		struct rd rec = { r.p + 10, r.p + size, 0 };
		r.p += size;
		switch (type) {
		case 'C': {
			uint32_t nlen, plen;
			const unsigned char *name = rd_str(&rec, &nlen);
			uint32_t n_fields = rd_u32(&rec), n_methods = rd_u32(&rec);
			const unsigned char *pname = rd_str(&rec, &plen);
			if (rec.bad || n_fields > 65536 || n_methods > 65536)
				return -1;
			pvm_ref parent = plen ? pvm_find_class((const char *)pname, plen)
					      : PVM_ROOT(PVM_ROOT_OBJECT_NULL_CLASS);
			if (!parent || pvm_find_class((const char *)name, nlen))
				return -1;	/* unknown parent, or a duplicate class */
			pvm_ref sname = pvm_new_string(name, nlen);
			if (!sname)
				return -1;
			cls = pvm_new_class(sname, parent, n_fields, n_methods);
			if (!cls)
				return -1;
			struct data_area_4_class *d = PVM_DA(cls, data_area_4_class);
			uint32_t slots = pvm_slot_count(d->object_default_interface);
			pvm_ref mn = null_array(slots), fn = null_array(n_fields);
			if (!mn || !fn)
				return -1;
			d = PVM_DA(cls, data_area_4_class);
			d->method_names = mn;
			d->field_names = fn;
			if (pvm_array_append(PVM_ROOT(PVM_ROOT_OBJECT_CLASS_DIR), cls) < 0)
				return -1;
			break;
		}
		case 'M': {
			uint32_t nlen;
			const unsigned char *name = rd_str(&rec, &nlen);
			uint32_t ord = rd_u32(&rec);
			if (rec.bad || !cls)
				return -1;
			struct data_area_4_class *d = PVM_DA(cls, data_area_4_class);
			pvm_ref iface = d->object_default_interface;
			if (ord >= pvm_slot_count(iface))
				return -1;
			pvm_ref code = pvm_new_code(rec.p, (uint32_t)(rec.end - rec.p));
			if (!code)
				return -1;
			pvm_slots(iface)[ord] = code;
			if (set_name(PVM_DA(cls, data_area_4_class)->method_names, ord, name, nlen) < 0)
				return -1;
			break;
		}
		case 'f':
			if (!cls)
				return -1;
			while (rec.p < rec.end) {
				uint32_t nlen;
				const unsigned char *name = rd_str(&rec, &nlen);
				uint32_t ord = rd_u32(&rec);
				if (rec.bad || set_name(PVM_DA(cls, data_area_4_class)->field_names, ord, name, nlen) < 0)
					return -1;
			}
			break;
		default:
			break;	/* 'l' and unknown records */
		}
	}
	return 0;
}
