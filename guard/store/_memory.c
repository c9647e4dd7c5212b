/* The memory store's operations in C: the native twin of MemoryStore's handlers.
 *
 * execute(store, ops, now) runs a batch exactly as guard/store/memory.py does, on the same
 * Python objects: store._entries (an OrderedDict of (expires, value, weight) tuples and
 * exact-window dicts) and store.weight. Nothing is kept here, so either implementation can
 * serve a store the other filled, and tests/store/test_native.py holds them to the same
 * results and the same entries. Sketches (windows past the exact limit) stay Python
 * objects, called through their methods: they are rare and their arithmetic is not the hot
 * path. Eviction stays in Python too (it runs when the budget overflows, not every call).
 *
 * The Python file is the specification: every step below names the line it mirrors.
 */
#include "_common.h"

/* distinct.py: EXPIRES, ENTRY_WEIGHT, IN_FLIGHT, OLDEST and the four reserved entries. */
#define EXPIRES 0
#define ENTRY_WEIGHT 2
#define IN_FLIGHT 3
#define OLDEST 4
#define RESERVED 4

typedef struct {
    PyObject *rate_hit, *distinct_count, *distinct_add, *value_get, *value_put;
    PyObject *rate_state, *sketch_window;
    long buckets;      /* base.DISTINCT_BUCKETS */
    long set_limit;    /* distinct.SET_LIMIT */
    PyObject *index[5]; /* the ints 0..4, the window's own keys */
} Kinds;

static Kinds kinds;
static int ready = 0;

static PyObject *s_entries, *s_weight, *s_key, *s_limit, *s_period, *s_cost, *s_window,
    *s_reserve, *s_member, *s_release, *s_kind, *s_ttl, *s_value, *s_pack, *s_unpack,
    *s_move_to_end, *s_in_flight, *s_count, *s_add, *s_of;


/* An entry's expiry (index 0) or weight (index 2): a tuple's items, a window's keys. */
static PyObject *field(PyObject *entry, int index) {
    if (PyTuple_Check(entry)) return PyTuple_GET_ITEM(entry, index);
    PyObject *found = PyDict_GetItemWithError(entry, kinds.index[index]);
    if (found == NULL && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_KeyError, "memory store: a window without its own entries");
    }
    return found;
}

static int field_long(PyObject *entry, int index, long long *out) {
    PyObject *value = field(entry, index);
    if (value == NULL) return -1;
    PyObject *whole = PyNumber_Long(value); /* int(entry[2]) */
    if (whole == NULL) return -1;
    *out = PyLong_AsLongLong(whole);
    Py_DECREF(whole);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

typedef struct {
    PyObject *entries;
    long long weight;
} Batch;

/* MemoryStore._live: the entry unless expired (then it goes), marked recently used.
 * Returns a new reference, or NULL with no error for "none", or NULL with an error. */
static PyObject *live(Batch *b, PyObject *key, double now) {
    PyObject *entry = PyDict_GetItemWithError(b->entries, key);
    if (entry == NULL) return NULL;
    Py_INCREF(entry);
    PyObject *expires_obj = field(entry, EXPIRES);
    if (expires_obj == NULL) goto fail;
    double expires = PyFloat_AsDouble(expires_obj);
    if (expires == -1.0 && PyErr_Occurred()) goto fail;
    if (expires <= now) {
        long long weight;
        if (field_long(entry, ENTRY_WEIGHT, &weight) < 0) goto fail;
        b->weight -= weight;
        Py_DECREF(entry);
        if (PyObject_DelItem(b->entries, key) < 0) return NULL;
        return NULL;
    }
    PyObject *moved = PyObject_CallMethodOneArg(b->entries, s_move_to_end, key);
    if (moved == NULL) goto fail;
    Py_DECREF(moved);
    return entry;
fail:
    Py_DECREF(entry);
    return NULL;
}

/* MemoryStore._set: store the entry as the most recently used, keeping the weight total. */
static int set_entry(Batch *b, PyObject *key, PyObject *entry) {
    PyObject *old = PyDict_GetItemWithError(b->entries, key);
    if (old == NULL && PyErr_Occurred()) return -1;
    Py_XINCREF(old);
    long long new_weight, old_weight = 0;
    int status = -1;
    if (field_long(entry, ENTRY_WEIGHT, &new_weight) < 0) goto done;
    if (old != NULL && field_long(old, ENTRY_WEIGHT, &old_weight) < 0) goto done;
    if (PyObject_SetItem(b->entries, key, entry) < 0) goto done;
    b->weight += new_weight - old_weight;
    if (old != NULL) {
        PyObject *moved = PyObject_CallMethodOneArg(b->entries, s_move_to_end, key);
        if (moved == NULL) goto done;
        Py_DECREF(moved);
    }
    status = 0;
done:
    Py_XDECREF(old);
    return status;
}

static PyObject *entry_of(double expires, PyObject *value, long long weight) {
    return Py_BuildValue("(dOL)", expires, value, weight);
}

/* MemoryStore._value */
static PyObject *op_value_get(Batch *b, PyObject *op, double now) {
    PyObject *key = PyObject_GetAttr(op, s_key);
    if (key == NULL) return NULL;
    PyObject *entry = live(b, key, now);
    Py_DECREF(key);
    if (entry == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *result = NULL;
    if (PyTuple_Check(entry) && PyBytes_Check(PyTuple_GET_ITEM(entry, 1))) {
        PyObject *kind = PyObject_GetAttr(op, s_kind);
        if (kind != NULL) {
            result = PyObject_CallMethodOneArg(kind, s_unpack, PyTuple_GET_ITEM(entry, 1));
            Py_DECREF(kind);
        }
    } else {
        result = Py_NewRef(Py_None);
    }
    Py_DECREF(entry);
    return result;
}

/* MemoryStore._store */
static PyObject *op_value_put(Batch *b, PyObject *op, double now) {
    double ttl;
    if (get_double(op, s_ttl, &ttl) < 0) return NULL;
    PyObject *value = PyObject_GetAttr(op, s_value);
    if (value == NULL) return NULL;
    PyObject *packed = PyObject_CallMethodNoArgs(value, s_pack);
    Py_DECREF(value);
    if (packed == NULL) return NULL;
    Py_ssize_t size = PyObject_Length(packed);
    if (size < 0) {
        Py_DECREF(packed);
        return NULL;
    }
    PyObject *entry = entry_of(now + ttl, packed, 1 + size / 256);
    Py_DECREF(packed);
    if (entry == NULL) return NULL;
    PyObject *key = PyObject_GetAttr(op, s_key);
    int status = key == NULL ? -1 : set_entry(b, key, entry);
    Py_XDECREF(key);
    Py_DECREF(entry);
    if (status < 0) return NULL;
    Py_RETURN_NONE;
}

/* MemoryStore._rate: GCRA. */
static PyObject *op_rate(Batch *b, PyObject *op, double now) {
    double limit, period, cost;
    if (get_double(op, s_limit, &limit) < 0 || get_double(op, s_period, &period) < 0 ||
        get_double(op, s_cost, &cost) < 0) {
        return NULL;
    }
    if (limit == 0.0) {
        PyErr_SetString(PyExc_ZeroDivisionError, "float division by zero");
        return NULL;
    }
    double interval = period / limit;
    PyObject *key = PyObject_GetAttr(op, s_key);
    if (key == NULL) return NULL;
    PyObject *entry = live(b, key, now);
    if (entry == NULL && PyErr_Occurred()) goto fail;
    double tat = now;
    if (entry != NULL && PyTuple_Check(entry)) {
        PyObject *stored = PyTuple_GET_ITEM(entry, 1);
        if (PyFloat_Check(stored) && PyFloat_AS_DOUBLE(stored) > now) {
            tat = PyFloat_AS_DOUBLE(stored);
        }
    }
    Py_CLEAR(entry);
    double new_tat = tat + interval * cost;
    double allow_at = new_tat - period;
    if (now < allow_at) {
        Py_DECREF(key);
        return PyObject_CallFunction(kinds.rate_state, "Oidd", Py_False, 0, tat - now,
                                     allow_at - now);
    }
    PyObject *tat_obj = PyFloat_FromDouble(new_tat);
    if (tat_obj == NULL) goto fail;
    PyObject *fresh = entry_of(new_tat, tat_obj, 1);
    Py_DECREF(tat_obj);
    if (fresh == NULL) goto fail;
    int status = set_entry(b, key, fresh);
    Py_DECREF(fresh);
    Py_DECREF(key);
    if (status < 0) return NULL;
    double remaining = floor((period - (new_tat - now)) / interval + 1e-9);
    if (interval == 0.0) {
        PyErr_SetString(PyExc_ZeroDivisionError, "float division by zero");
        return NULL;
    }
    PyObject *whole = PyLong_FromDouble(remaining);
    if (whole == NULL) return NULL;
    if (remaining < 0) {
        Py_SETREF(whole, PyLong_FromLong(0));
    }
    PyObject *result =
        PyObject_CallFunction(kinds.rate_state, "OOdd", Py_True, whole, new_tat - now, 0.0);
    Py_DECREF(whole);
    return result;
fail:
    Py_XDECREF(entry);
    Py_DECREF(key);
    return NULL;
}

/* MemoryStore._held: the window at key, exact (a dict) or a sketch, or NULL with no error. */
static PyObject *held(Batch *b, PyObject *key, double now) {
    PyObject *entry = live(b, key, now);
    if (entry == NULL) return NULL;
    if (PyDict_Check(entry)) return entry;
    if (PyTuple_Check(entry)) {
        PyObject *value = PyTuple_GET_ITEM(entry, 1);
        int is_sketch = PyObject_IsInstance(value, kinds.sketch_window);
        if (is_sketch < 0) {
            Py_DECREF(entry);
            return NULL;
        }
        if (is_sketch) {
            Py_INCREF(value);
            Py_DECREF(entry);
            return value;
        }
    }
    Py_DECREF(entry);
    return NULL;
}

/* distinct.new_exact_window */
static PyObject *new_exact_window(double expires) {
    PyObject *window = PyDict_New();
    if (window == NULL) return NULL;
    PyObject *at = PyFloat_FromDouble(expires);
    PyObject *one = PyLong_FromLong(1), *zero = PyLong_FromLong(0);
    int failed = at == NULL || one == NULL || zero == NULL ||
                 PyDict_SetItem(window, kinds.index[EXPIRES], at) < 0 ||
                 PyDict_SetItem(window, kinds.index[ENTRY_WEIGHT], one) < 0 ||
                 PyDict_SetItem(window, kinds.index[IN_FLIGHT], zero) < 0 ||
                 PyDict_SetItem(window, kinds.index[OLDEST], zero) < 0;
    Py_XDECREF(at);
    Py_XDECREF(one);
    Py_XDECREF(zero);
    if (failed) {
        Py_DECREF(window);
        return NULL;
    }
    return window;
}

/* MemoryStore._window: the window at key, a new exact one if there is none. */
static PyObject *window_at(Batch *b, PyObject *key, double window, double now) {
    PyObject *members = held(b, key, now);
    if (members != NULL || PyErr_Occurred()) return members;
    members = new_exact_window(now + window);
    if (members == NULL) return NULL;
    if (set_entry(b, key, members) < 0) {
        Py_DECREF(members);
        return NULL;
    }
    return members;
}

static int dict_long(PyObject *dict, int index, long long *out) {
    PyObject *value = PyDict_GetItemWithError(dict, kinds.index[index]);
    if (value == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_KeyError, "memory store: bad window");
        return -1;
    }
    PyObject *whole = PyNumber_Long(value);
    if (whole == NULL) return -1;
    *out = PyLong_AsLongLong(whole);
    Py_DECREF(whole);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int dict_set_long(PyObject *dict, int index, long long value) {
    PyObject *number = PyLong_FromLongLong(value);
    if (number == NULL) return -1;
    int status = PyDict_SetItem(dict, kinds.index[index], number);
    Py_DECREF(number);
    return status;
}

/* The window's weight before an operation, to add its change to the store's total. */
static int window_weight(PyObject *members, long long *out) {
    return dict_long(members, ENTRY_WEIGHT, out);
}

/* distinct._expire: drop members last added before the window's oldest bucket. */
static int expire_members(PyObject *window, long long bucket) {
    long long oldest = bucket - kinds.buckets + 1, held_oldest;
    if (dict_long(window, OLDEST, &held_oldest) < 0) return -1;
    if (held_oldest >= oldest || PyDict_GET_SIZE(window) == RESERVED) return 0;
    PyObject *gone = PyList_New(0);
    if (gone == NULL) return -1;
    PyObject *name, *value;
    Py_ssize_t pos = 0;
    long long low = 0, live = 0;
    int any = 0;
    while (PyDict_Next(window, &pos, &name, &value)) {
        if (!PyUnicode_Check(name)) continue;
        long long member_bucket = PyLong_AsLongLong(value);
        if (member_bucket == -1 && PyErr_Occurred()) goto fail;
        if (member_bucket < oldest) {
            if (PyList_Append(gone, name) < 0) goto fail;
        } else {
            live += 1;
            if (!any || member_bucket < low) low = member_bucket;
            any = 1;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(gone); i++) {
        if (PyDict_DelItem(window, PyList_GET_ITEM(gone, i)) < 0) goto fail;
    }
    Py_DECREF(gone);
    if (dict_set_long(window, OLDEST, any ? low : bucket) < 0) return -1;
    return dict_set_long(window, ENTRY_WEIGHT, 1 + live);
fail:
    Py_DECREF(gone);
    return -1;
}

static PyObject *sketch_count(PyObject *sketch, long long bucket) {
    PyObject *index = PyLong_FromLongLong(bucket);
    if (index == NULL) return NULL;
    PyObject *count = PyObject_CallMethodOneArg(sketch, s_count, index);
    Py_DECREF(index);
    return count;
}

/* MemoryStore._count */
static PyObject *op_count(Batch *b, PyObject *op, double now) {
    double window;
    if (get_double(op, s_window, &window) < 0) return NULL;
    long long bucket;
    if (bucket_of(now, window, kinds.buckets, &bucket) < 0) return NULL;
    int reserve = get_flag(op, s_reserve);
    if (reserve < 0) return NULL;
    PyObject *key = PyObject_GetAttr(op, s_key);
    if (key == NULL) return NULL;
    PyObject *members = reserve ? window_at(b, key, window, now) : held(b, key, now);
    Py_DECREF(key);
    if (members == NULL) {
        if (PyErr_Occurred()) return NULL;
        return PyLong_FromLong(0);
    }
    PyObject *result = NULL;
    if (!PyDict_Check(members)) { /* a sketch */
        PyObject *in_flight = NULL;
        if (reserve) {
            in_flight = PyObject_GetAttr(members, s_in_flight);
            if (in_flight == NULL) goto done;
            PyObject *more = PyNumber_Add(in_flight, kinds.index[1]);
            if (more == NULL) goto sketch_done;
            int status = PyObject_SetAttr(members, s_in_flight, more);
            Py_DECREF(more);
            if (status < 0) goto sketch_done;
        } else {
            in_flight = PyLong_FromLong(0);
            if (in_flight == NULL) goto done;
        }
        PyObject *count = sketch_count(members, bucket);
        if (count != NULL) {
            result = PyNumber_Add(count, in_flight);
            Py_DECREF(count);
        }
    sketch_done:
        Py_DECREF(in_flight);
        goto done;
    }
    long long held_places = 0, before, after;
    if (reserve) {
        if (dict_long(members, IN_FLIGHT, &held_places) < 0) goto done;
        if (dict_set_long(members, IN_FLIGHT, held_places + 1) < 0) goto done;
    }
    if (window_weight(members, &before) < 0 || expire_members(members, bucket) < 0 ||
        window_weight(members, &after) < 0) {
        goto done;
    }
    b->weight += after - before; /* members that aged out */
    result = PyLong_FromLongLong((long long)PyDict_GET_SIZE(members) - RESERVED + held_places);
done:
    Py_DECREF(members);
    return result;
}

/* MemoryStore._add */
static PyObject *op_add(Batch *b, PyObject *op, double now) {
    double window;
    if (get_double(op, s_window, &window) < 0) return NULL;
    int release = get_flag(op, s_release);
    if (release < 0) return NULL;
    PyObject *key = PyObject_GetAttr(op, s_key);
    if (key == NULL) return NULL;
    PyObject *members = window_at(b, key, window, now);
    PyObject *member = NULL, *result = NULL;
    if (members == NULL) goto done;
    int sketch = !PyDict_Check(members);
    if (release) {
        if (sketch) {
            PyObject *in_flight = PyObject_GetAttr(members, s_in_flight);
            if (in_flight == NULL) goto done;
            int truthy = PyObject_IsTrue(in_flight);
            if (truthy > 0) {
                PyObject *one = PyLong_FromLong(1);
                PyObject *less = one == NULL ? NULL : PyNumber_Subtract(in_flight, one);
                Py_XDECREF(one);
                truthy = less == NULL ? -1 : PyObject_SetAttr(members, s_in_flight, less);
                Py_XDECREF(less);
            }
            Py_DECREF(in_flight);
            if (truthy < 0) goto done;
        } else {
            long long places;
            if (dict_long(members, IN_FLIGHT, &places) < 0) goto done;
            if (places && dict_set_long(members, IN_FLIGHT, places - 1) < 0) goto done;
        }
    }
    member = PyObject_GetAttr(op, s_member);
    if (member == NULL) goto done;
    if (member == Py_None) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    long long bucket;
    if (bucket_of(now, window, kinds.buckets, &bucket) < 0) goto done;
    double expires = (double)(bucket + 1) * window / (double)kinds.buckets + window;
    if (sketch) {
        PyObject *index = PyLong_FromLongLong(bucket);
        if (index == NULL) goto done;
        PyObject *added = PyObject_CallMethodObjArgs(members, s_add, member, index, NULL);
        Py_DECREF(index);
        if (added == NULL) goto done;
        Py_DECREF(added);
        long long weight;
        PyObject *weight_obj = PyObject_GetAttr(members, s_weight);
        if (weight_obj == NULL) goto done;
        weight = PyLong_AsLongLong(weight_obj);
        Py_DECREF(weight_obj);
        if (weight == -1 && PyErr_Occurred()) goto done;
        PyObject *entry = entry_of(expires, members, weight);
        if (entry == NULL) goto done;
        int status = set_entry(b, key, entry);
        Py_DECREF(entry);
        if (status == 0) result = Py_NewRef(Py_None);
        goto done;
    }
    /* distinct.exact_add */
    long long before;
    if (window_weight(members, &before) < 0 || expire_members(members, bucket) < 0) goto done;
    if (PyDict_GET_SIZE(members) == RESERVED && dict_set_long(members, OLDEST, bucket) < 0) {
        goto done;
    }
    PyObject *index = PyLong_FromLongLong(bucket);
    if (index == NULL) goto done;
    int status = PyDict_SetItem(members, member, index);
    Py_DECREF(index);
    if (status < 0) goto done;
    long long count = (long long)PyDict_GET_SIZE(members) - RESERVED;
    if (count > kinds.set_limit) { /* it outgrew exact counting */
        PyObject *grown = PyObject_CallMethodOneArg(kinds.sketch_window, s_of, members);
        if (grown == NULL) goto done;
        PyObject *weight_obj = PyObject_GetAttr(grown, s_weight);
        long long weight = weight_obj == NULL ? -1 : PyLong_AsLongLong(weight_obj);
        Py_XDECREF(weight_obj);
        PyObject *entry = PyErr_Occurred() ? NULL : entry_of(expires, grown, weight);
        Py_DECREF(grown);
        if (entry == NULL) goto done;
        status = set_entry(b, key, entry);
        Py_DECREF(entry);
        if (status == 0) result = Py_NewRef(Py_None);
        goto done;
    }
    if (dict_set_long(members, ENTRY_WEIGHT, 1 + count) < 0) goto done;
    PyObject *at = PyFloat_FromDouble(expires);
    if (at == NULL) goto done;
    status = PyDict_SetItem(members, kinds.index[EXPIRES], at);
    Py_DECREF(at);
    if (status < 0) goto done;
    b->weight += 1 + count - before;
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(member);
    Py_XDECREF(members);
    Py_DECREF(key);
    return result;
}

static PyObject *run_op(Batch *b, PyObject *op, double now) {
    PyObject *type = (PyObject *)Py_TYPE(op);
    if (type == kinds.rate_hit) return op_rate(b, op, now);
    if (type == kinds.distinct_count) return op_count(b, op, now);
    if (type == kinds.distinct_add) return op_add(b, op, now);
    if (type == kinds.value_get) return op_value_get(b, op, now);
    if (type == kinds.value_put) return op_value_put(b, op, now);
    PyErr_SetObject(PyExc_KeyError, type); /* as the handler table's lookup fails */
    return NULL;
}

static PyObject *execute(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (!ready) {
        PyErr_SetString(PyExc_RuntimeError, "guard.store._memory: setup() was not called");
        return NULL;
    }
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "execute(store, ops, now)");
        return NULL;
    }
    PyObject *store = args[0];
    double now = PyFloat_AsDouble(args[2]);
    if (now == -1.0 && PyErr_Occurred()) return NULL;
    PyObject *ops = PySequence_Fast(args[1], "ops must be a sequence");
    if (ops == NULL) return NULL;
    Batch b = {NULL, 0};
    PyObject *results = NULL;
    b.entries = PyObject_GetAttr(store, s_entries);
    PyObject *weight = b.entries == NULL ? NULL : PyObject_GetAttr(store, s_weight);
    if (weight == NULL) goto done;
    b.weight = PyLong_AsLongLong(weight);
    Py_DECREF(weight);
    if (b.weight == -1 && PyErr_Occurred()) goto done;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(ops);
    results = PyList_New(count);
    if (results == NULL) goto write_back;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *result = run_op(&b, PySequence_Fast_GET_ITEM(ops, i), now);
        if (result == NULL) {
            Py_CLEAR(results);
            break;
        }
        PyList_SET_ITEM(results, i, result);
    }
write_back:
    /* Whatever ran is in the entries, so its weight goes to the store, error or not. */
    {
        PyObject *type, *value, *trace;
        PyErr_Fetch(&type, &value, &trace);
        PyObject *total = PyLong_FromLongLong(b.weight);
        if (total == NULL || PyObject_SetAttr(store, s_weight, total) < 0) {
            Py_CLEAR(results);
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(trace);
            type = NULL;
        }
        Py_XDECREF(total);
        if (type != NULL) PyErr_Restore(type, value, trace);
    }
done:
    Py_XDECREF(b.entries);
    Py_DECREF(ops);
    return results;
}

static PyObject *setup(PyObject *module, PyObject *args) {
    Kinds k;
    if (!PyArg_ParseTuple(args, "OOOOOOOll", &k.rate_hit, &k.distinct_count, &k.distinct_add,
                          &k.value_get, &k.value_put, &k.rate_state, &k.sketch_window,
                          &k.buckets, &k.set_limit)) {
        return NULL;
    }
    if (k.buckets < 1) {
        PyErr_SetString(PyExc_ValueError, "buckets must be at least 1");
        return NULL;
    }
    Py_INCREF(k.rate_hit);
    Py_INCREF(k.distinct_count);
    Py_INCREF(k.distinct_add);
    Py_INCREF(k.value_get);
    Py_INCREF(k.value_put);
    Py_INCREF(k.rate_state);
    Py_INCREF(k.sketch_window);
    for (int i = 0; i < 5; i++) {
        k.index[i] = PyLong_FromLong(i);
        if (k.index[i] == NULL) return NULL;
    }
    kinds = k;
    ready = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"execute", (PyCFunction)(void (*)(void))execute, METH_FASTCALL,
     "execute(store, ops, now) -> results: MemoryStore.execute's operations, in C."},
    {"setup", setup, METH_VARARGS,
     "setup(RateHit, DistinctCount, DistinctAdd, ValueGet, ValuePut, RateState, SketchWindow, "
     "buckets, set_limit): the Python types and numbers the operations use."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "guard.store._memory",
    "The memory store's operations in C (see guard/store/memory.py).", -1, methods,
};


PyMODINIT_FUNC PyInit__memory(void) {
    INTERN(s_entries, "_entries");
    INTERN(s_weight, "weight");
    INTERN(s_key, "key");
    INTERN(s_limit, "limit");
    INTERN(s_period, "period");
    INTERN(s_cost, "cost");
    INTERN(s_window, "window");
    INTERN(s_reserve, "reserve");
    INTERN(s_member, "member");
    INTERN(s_release, "release");
    INTERN(s_kind, "kind");
    INTERN(s_ttl, "ttl");
    INTERN(s_value, "value");
    INTERN(s_pack, "pack");
    INTERN(s_unpack, "unpack");
    INTERN(s_move_to_end, "move_to_end");
    INTERN(s_in_flight, "in_flight");
    INTERN(s_count, "count");
    INTERN(s_add, "add");
    INTERN(s_of, "of");
    return PyModule_Create(&module_def);
}
