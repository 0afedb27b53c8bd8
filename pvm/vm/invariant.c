/* pvm/vm/invariant.c: the workloads' invariants, checked from C.
 *
 * The checker finds the workload's main object in the root and reads its
 * fields BY NAME through the class's field-name table (the assembler
 * records it), so the .pvs sources may reorder fields freely.  Every
 * check first walks the heap (pvm_heap_check).  Each must hold at every
 * bytecode boundary, since that is where a snapshot can be taken; the
 * workloads log their multi-store updates so that it does (docs/pvm.md).
 */
#include "pvm/vm/vm.h"

pvm_ref pvm_get_field(pvm_ref o, const char *name)
{
	if (!o || !pvm_is_class(o->_class))
		return 0;
	int i = pvm_field_index(o->_class, name);
	if (i < 0 || (uint32_t)i >= pvm_slot_count(o))
		return 0;
	return pvm_slots(o)[i];
}

/* 1 if the field holds an int (stored in *v), 0 if null, -1 otherwise. */
static int field_int(pvm_ref o, const char *name, int32_t *v)
{
	pvm_ref f = pvm_get_field(o, name);
	if (!f)
		return 0;
	if (!pvm_ref_ok(f) || !pvm_is_int(f))
		return -1;
	*v = PVM_DA(f, data_area_4_int)->value;
	return 1;
}

static int array_int(pvm_ref arr, uint32_t i, int32_t *v)
{
	pvm_ref e = pvm_array_get(arr, i);
	if (!e || !pvm_ref_ok(e) || !pvm_is_int(e))
		return -1;
	*v = PVM_DA(e, data_area_4_int)->value;
	return 0;
}

static int check_counter(pvm_ref w)
{
	int32_t v;
	return field_int(w, "count", &v) < 0 ? 1 : 0;
}

/* Sum of balances == total.  A transfer in flight (tx_state 1) is undone
 * in the sum using its log: the debit happened iff accounts[from] ==
 * old_from - amt, the credit iff accounts[to] == old_to + amt (amt > 0,
 * from != to). */
static int check_bank(pvm_ref w)
{
	pvm_ref acc = pvm_get_field(w, "accounts");
	int32_t total, state = 0;
	int ht = field_int(w, "total", &total);
	if (!acc)
		return 0;	/* still initialising: accounts are published last */
	if (ht != 1 || !pvm_is_array(acc) || field_int(w, "tx_state", &state) < 0)
		return 2;
	int64_t sum = 0;
	uint32_t n = pvm_array_size(acc);
	for (uint32_t i = 0; i < n; i++) {
		int32_t b;
		if (array_int(acc, i, &b) < 0)
			return 3;
		sum += b;
	}
	if (state == 1) {
		int32_t from, to, amt, of, ot, bf, bt;
		if (field_int(w, "tx_from", &from) != 1 || field_int(w, "tx_to", &to) != 1 ||
		    field_int(w, "tx_amt", &amt) != 1 || field_int(w, "tx_old_from", &of) != 1 ||
		    field_int(w, "tx_old_to", &ot) != 1)
			return 4;
		if (from < 0 || to < 0 || (uint32_t)from >= n || (uint32_t)to >= n || from == to || amt <= 0)
			return 5;
		if (array_int(acc, (uint32_t)from, &bf) < 0 || array_int(acc, (uint32_t)to, &bt) < 0)
			return 3;
		if (bf == of - amt)
			sum += amt;
		if (bt == ot + amt)
			sum -= amt;
	}
	return sum == total ? 0 : 1;
}

/* Every entry in the bucket its key hashes to, keys unique, chains finite,
 * entry count == inserts - deletes (+1 / -1 while an insert / delete is
 * pending). */
#define KV_MAX_KEYS 4096
static int check_kv(pvm_ref w)
{
	pvm_ref b = pvm_get_field(w, "buckets");
	int32_t ins = 0, del = 0, pending = 0;
	int hi = field_int(w, "inserts", &ins), hd = field_int(w, "deletes", &del);
	if (!b || hi == 0 || hd == 0)
		return 0;	/* still initialising */
	if (!pvm_is_array(b) || hi < 0 || hd < 0 || field_int(w, "pending", &pending) < 0)
		return 2;
	pvm_ref ecls = pvm_find_class("KvEntry", 7);
	if (!ecls)
		return 2;
	uint8_t seen[KV_MAX_KEYS / 8];
	pvm_memset(seen, 0, sizeof seen);
	uint32_t nb = pvm_array_size(b);
	int64_t count = 0;
	for (uint32_t i = 0; i < nb; i++) {
		pvm_ref e = pvm_array_get(b, i);
		for (unsigned steps = 0; e; steps++) {
			int32_t key;
			if (steps > KV_MAX_KEYS || !pvm_ref_ok(e) || e->_class != ecls)
				return 3;
			if (field_int(e, "key", &key) != 1 || key < 0 || key >= KV_MAX_KEYS)
				return 4;
			if ((uint32_t)key % nb != i)
				return 5;
			if (seen[key / 8] & (1u << (key % 8)))
				return 6;
			seen[key / 8] |= (uint8_t)(1u << (key % 8));
			int32_t v;
			if (field_int(e, "value", &v) != 1)
				return 4;
			count++;
			e = pvm_get_field(e, "next");
		}
	}
	int64_t want = (int64_t)ins - del;
	if (count == want)
		return 0;
	if (pending == 1 && count == want + 1)
		return 0;
	if (pending == 2 && count == want - 1)
		return 0;
	return 1;
}

/* A finite chain of ListNode objects with strictly decreasing int values. */
#define LIST_MAX 100000
static int check_list(pvm_ref w)
{
	pvm_ref ncls = pvm_find_class("ListNode", 8);
	if (!ncls)
		return 2;
	pvm_ref n = pvm_get_field(w, "head");
	int have = 0;
	int32_t last = 0;
	for (unsigned steps = 0; n; steps++) {
		int32_t v;
		if (steps > LIST_MAX || !pvm_ref_ok(n) || n->_class != ncls)
			return 3;
		if (field_int(n, "value", &v) != 1)
			return 4;
		if (have && v >= last)
			return 5;
		last = v;
		have = 1;
		n = pvm_get_field(n, "next");
	}
	return 0;
}

int pvm_check_invariant(void)
{
	if (!pvm_g.attached)
		return -1;
	if (pvm_heap_check() < 0)
		return -2;
	pvm_ref w = PVM_ROOT(PVM_ROOT_OBJECT_WORKLOAD);
	pvm_ref name = PVM_ROOT(PVM_ROOT_OBJECT_WORKLOAD_NAME);
	if (!w || !pvm_ref_ok(w) || !pvm_is_string(name))
		return -3;
	if (pvm_string_eq(name, "counter"))
		return check_counter(w);
	if (pvm_string_eq(name, "bank"))
		return check_bank(w);
	if (pvm_string_eq(name, "kv"))
		return check_kv(w);
	if (pvm_string_eq(name, "list"))
		return check_list(w);
	return 0;	/* test programs have no invariant */
}
