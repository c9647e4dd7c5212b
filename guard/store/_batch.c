/* The Redis store's script call, encoded in C: the native twin of guard.store.redis._Encoder.
 *
 * encode(items, now) takes (op, at) pairs (at: the moment a held write was made, or None)
 * and returns (keys, packed): the KEYS of the call (each key's start through its hash tag,
 * once) and the MessagePack argument lua/batch.lua reads, holding what _Encoder.add would
 * put there, value for value (tests/store/test_batch_native.py unpacks both and compares).
 * MessagePack is written as msgpack-python writes it with use_bin_type=False: text and
 * bytes both as raw strings, ints in their smallest form, floats as doubles.
 *
 * command(items, now) frames the same call as the whole EVALSHA command in RESP, as
 * guard.store.resp.pack_command would (keys in UTF-8), for the pipelined connection.
 */
#include "_common.h"
#include <string.h>

typedef struct {
    PyObject *rate_hit, *distinct_count, *distinct_add, *value_get, *value_put, *places_back,
        *steps_back;
    long buckets;
} Kinds;

static Kinds kinds;
static int ready = 0;
static PyObject *s_key, *s_limit, *s_period, *s_cost, *s_window, *s_reserve, *s_member,
    *s_release, *s_ttl, *s_value, *s_pack, *s_places, *s_steps;

typedef struct {
    char *data;
    Py_ssize_t size, room;
} Buffer;

static int grow(Buffer *b, Py_ssize_t more) {
    if (b->size + more <= b->room) return 0;
    Py_ssize_t room = b->room ? b->room : 256;
    while (room < b->size + more) room *= 2;
    char *data = PyMem_Realloc(b->data, room);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->room = room;
    return 0;
}

static int put(Buffer *b, const void *bytes, Py_ssize_t size) {
    if (grow(b, size) < 0) return -1;
    memcpy(b->data + b->size, bytes, size);
    b->size += size;
    return 0;
}

static int put_be(Buffer *b, unsigned char lead, unsigned long long value, int width) {
    unsigned char out[9];
    out[0] = lead;
    for (int i = 0; i < width; i++) out[1 + i] = (unsigned char)(value >> (8 * (width - 1 - i)));
    return put(b, out, 1 + width);
}

static int pack_int(Buffer *b, long long v) {
    if (v >= 0) {
        if (v < 128) {
            unsigned char c = (unsigned char)v;
            return put(b, &c, 1);
        }
        if (v < 0x100) return put_be(b, 0xcc, v, 1);
        if (v < 0x10000) return put_be(b, 0xcd, v, 2);
        if (v < 0x100000000LL) return put_be(b, 0xce, v, 4);
        return put_be(b, 0xcf, (unsigned long long)v, 8);
    }
    if (v >= -32) {
        unsigned char c = (unsigned char)(0xe0 | (v + 32));
        return put(b, &c, 1);
    }
    if (v >= -128) return put_be(b, 0xd0, (unsigned long long)v & 0xff, 1);
    if (v >= -32768) return put_be(b, 0xd1, (unsigned long long)v & 0xffff, 2);
    if (v >= -2147483648LL) return put_be(b, 0xd2, (unsigned long long)v & 0xffffffff, 4);
    return put_be(b, 0xd3, (unsigned long long)v, 8);
}

static int pack_double(Buffer *b, double d) {
    unsigned long long bits;
    memcpy(&bits, &d, 8);
    return put_be(b, 0xcb, bits, 8);
}

static int pack_raw(Buffer *b, const char *data, Py_ssize_t size) {
    int status;
    if (size < 32) {
        unsigned char c = (unsigned char)(0xa0 | size);
        status = put(b, &c, 1);
    } else if (size < 0x10000) {
        status = put_be(b, 0xda, size, 2);
    } else {
        status = put_be(b, 0xdb, size, 4);
    }
    return status < 0 ? -1 : put(b, data, size);
}

static int pack_text(Buffer *b, PyObject *text) {
    PyObject *encoded = PyUnicode_AsEncodedString(text, "utf-8", "surrogatepass");
    if (encoded == NULL) return -1;
    int status = pack_raw(b, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded));
    Py_DECREF(encoded);
    return status;
}

/* A Python int or float as msgpack-python packs it. */
static int pack_number(Buffer *b, PyObject *number) {
    if (PyBool_Check(number)) {
        unsigned char c = number == Py_True ? 0xc3 : 0xc2;
        return put(b, &c, 1);
    }
    if (PyLong_Check(number)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(number, &overflow);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (overflow > 0) {
            unsigned long long u = PyLong_AsUnsignedLongLong(number);
            if (u == (unsigned long long)-1 && PyErr_Occurred()) return -1;
            return put_be(b, 0xcf, u, 8);
        }
        if (overflow < 0) {
            PyErr_SetString(PyExc_OverflowError, "Integer value out of range");
            return -1;
        }
        return pack_int(b, v);
    }
    if (PyFloat_Check(number)) return pack_double(b, PyFloat_AS_DOUBLE(number));
    PyErr_Format(PyExc_TypeError, "can not serialize %R object", (PyObject *)Py_TYPE(number));
    return -1;
}

static int pack_attr(Buffer *b, PyObject *op, PyObject *name) {
    PyObject *value = PyObject_GetAttr(op, name);
    if (value == NULL) return -1;
    int status = pack_number(b, value);
    Py_DECREF(value);
    return status;
}



/* max(math.ceil(seconds * 1000), 1) */
static int pack_ttl_ms(Buffer *b, double seconds) {
    double ms = ceil(seconds * 1000.0);
    if (!isfinite(ms)) {
        PyErr_SetString(PyExc_OverflowError, "cannot convert float infinity to integer");
        return -1;
    }
    if (ms < 1.0) ms = 1.0;
    if (ms >= 9.2e18) {
        PyErr_SetString(PyExc_OverflowError, "a TTL too long to send");
        return -1;
    }
    return pack_int(b, (long long)ms);
}

/* _Encoder._key: the key's start through its hash tag (its index in KEYS) and the rest. */
static int pack_key(Buffer *b, PyObject *op, PyObject *keys, PyObject *index) {
    PyObject *key = PyObject_GetAttr(op, s_key);
    if (key == NULL) return -1;
    if (!PyUnicode_Check(key)) {
        PyErr_SetString(PyExc_TypeError, "a store key must be a str");
        Py_DECREF(key);
        return -1;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(key);
    Py_ssize_t opened = PyUnicode_FindChar(key, '{', 0, length, 1);
    Py_ssize_t closed = opened >= 0 ? PyUnicode_FindChar(key, '}', opened + 1, length, 1) : -1;
    int status = -1;
    PyObject *start = NULL, *rest = NULL;
    if (opened == -2 || closed == -2) goto done;
    if (closed > opened + 1) {
        start = PyUnicode_Substring(key, 0, closed + 1);
        rest = PyUnicode_Substring(key, closed + 1, length);
    } else {
        start = Py_NewRef(key);
        rest = PyUnicode_New(0, 0);
    }
    if (start == NULL || rest == NULL) goto done;
    PyObject *found = PyDict_GetItemWithError(index, start);
    long long position;
    if (found != NULL) {
        position = PyLong_AsLongLong(found);
    } else {
        if (PyErr_Occurred() || PyList_Append(keys, start) < 0) goto done;
        position = PyList_GET_SIZE(keys); /* Lua counts from 1 */
        PyObject *number = PyLong_FromLongLong(position);
        if (number == NULL) goto done;
        int stored = PyDict_SetItem(index, start, number);
        Py_DECREF(number);
        if (stored < 0) goto done;
    }
    if (pack_int(b, position) < 0 || pack_text(b, rest) < 0) goto done;
    status = 0;
done:
    Py_XDECREF(start);
    Py_XDECREF(rest);
    Py_DECREF(key);
    return status;
}

static int pack_code(Buffer *b, char code) { return pack_raw(b, &code, 1); }

/* _Encoder.add: one op's fields; returns how many array items it wrote, or -1. */
static int pack_op(Buffer *b, PyObject *op, double now, PyObject *at, PyObject *keys,
                   PyObject *index) {
    double when = now;
    if (at != Py_None) {
        when = PyFloat_AsDouble(at);
        if (when == -1.0 && PyErr_Occurred()) return -1;
    }
    PyObject *type = (PyObject *)Py_TYPE(op);
    if (type == kinds.rate_hit) {
        if (pack_code(b, 'R') < 0 || pack_key(b, op, keys, index) < 0 ||
            pack_attr(b, op, s_limit) < 0 || pack_attr(b, op, s_period) < 0 ||
            pack_attr(b, op, s_cost) < 0) {
            return -1;
        }
        return 6;
    }
    if (type == kinds.distinct_count) {
        double window;
        long long current;
        int reserve;
        if (pack_code(b, 'C') < 0 || pack_key(b, op, keys, index) < 0 ||
            get_double(op, s_window, &window) < 0 ||
            bucket_of(when, window, kinds.buckets, &current) < 0 ||
            (reserve = get_flag(op, s_reserve)) < 0 || pack_int(b, current) < 0 ||
            pack_int(b, kinds.buckets) < 0 || pack_int(b, reserve) < 0) {
            return -1;
        }
        PyObject *limit = PyObject_GetAttr(op, s_limit);
        if (limit == NULL) return -1;
        int status = limit == Py_None ? pack_int(b, 0) : pack_number(b, limit);
        Py_DECREF(limit);
        return status < 0 ? -1 : 7;
    }
    if (type == kinds.distinct_add) {
        double window;
        long long bucket;
        int release;
        if (pack_code(b, 'A') < 0 || pack_key(b, op, keys, index) < 0 ||
            get_double(op, s_window, &window) < 0 ||
            bucket_of(when, window, kinds.buckets, &bucket) < 0 ||
            (release = get_flag(op, s_release)) < 0 || pack_int(b, bucket) < 0 ||
            pack_int(b, release) < 0) {
            return -1;
        }
        double expires = (double)(bucket + 1) * window / (double)kinds.buckets + window;
        if (pack_ttl_ms(b, expires - when) < 0) return -1;
        PyObject *member = PyObject_GetAttr(op, s_member);
        if (member == NULL) return -1;
        int status;
        if (member == Py_None) {
            unsigned char c = 0xc2; /* False */
            status = put(b, &c, 1);
        } else if (PyUnicode_Check(member)) {
            status = pack_text(b, member);
        } else if (PyBytes_Check(member)) {
            status = pack_raw(b, PyBytes_AS_STRING(member), PyBytes_GET_SIZE(member));
        } else {
            status = pack_number(b, member); /* as msgpack would, or its TypeError */
        }
        Py_DECREF(member);
        return status < 0 ? -1 : 7;
    }
    if (type == kinds.value_get) {
        if (pack_code(b, 'G') < 0 || pack_key(b, op, keys, index) < 0) return -1;
        return 3;
    }
    if (type == kinds.places_back) {
        if (pack_code(b, 'F') < 0 || pack_key(b, op, keys, index) < 0 ||
            pack_attr(b, op, s_places) < 0) {
            return -1;
        }
        return 4;
    }
    if (type == kinds.steps_back) {
        if (pack_code(b, 'S') < 0 || pack_key(b, op, keys, index) < 0 ||
            pack_attr(b, op, s_limit) < 0 || pack_attr(b, op, s_period) < 0 ||
            pack_attr(b, op, s_steps) < 0) {
            return -1;
        }
        return 6;
    }
    if (type == kinds.value_put) {
        double ttl;
        if (pack_code(b, 'P') < 0 || pack_key(b, op, keys, index) < 0 ||
            get_double(op, s_ttl, &ttl) < 0 || pack_ttl_ms(b, ttl) < 0) {
            return -1;
        }
        PyObject *value = PyObject_GetAttr(op, s_value);
        if (value == NULL) return -1;
        PyObject *packed = PyObject_CallMethodNoArgs(value, s_pack);
        Py_DECREF(value);
        if (packed == NULL) return -1;
        int status;
        if (PyBytes_Check(packed)) {
            status = pack_raw(b, PyBytes_AS_STRING(packed), PyBytes_GET_SIZE(packed));
        } else {
            PyErr_SetString(PyExc_TypeError, "pack() must return bytes");
            status = -1;
        }
        Py_DECREF(packed);
        return status < 0 ? -1 : 5;
    }
    PyErr_Format(PyExc_TypeError, "not a store operation: %R", type);
    return -1;
}

/* The call's KEYS (a new list) and its MessagePack argument (in *packed, to be freed with
 * PyMem_Free), or NULL with an exception set. */
static PyObject *encode_parts(PyObject *const *args, Py_ssize_t nargs, Buffer *packed) {
    if (!ready) {
        PyErr_SetString(PyExc_RuntimeError, "guard.store._batch: setup() was not called");
        return NULL;
    }
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "expected (items, now)");
        return NULL;
    }
    double now = PyFloat_AsDouble(args[1]);
    if (now == -1.0 && PyErr_Occurred()) return NULL;
    PyObject *items = PySequence_Fast(args[0], "items must be a sequence");
    if (items == NULL) return NULL;
    Buffer body = {NULL, 0, 0};
    PyObject *keys = PyList_New(0), *index = PyDict_New();
    long long count = 1;
    int status = -1;
    if (keys == NULL || index == NULL || pack_double(&body, now) < 0) goto done;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(items, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "items are (op, at) pairs");
            goto done;
        }
        int written = pack_op(&body, PyTuple_GET_ITEM(item, 0), now, PyTuple_GET_ITEM(item, 1),
                              keys, index);
        if (written < 0) goto done;
        count += written;
    }
    if (count < 16) {
        unsigned char c = (unsigned char)(0x90 | count);
        status = put(packed, &c, 1);
    } else if (count < 0x10000) {
        status = put_be(packed, 0xdc, count, 2);
    } else {
        status = put_be(packed, 0xdd, count, 4);
    }
    if (status == 0) status = put(packed, body.data, body.size);
done:
    PyMem_Free(body.data);
    Py_XDECREF(index);
    Py_DECREF(items);
    if (status < 0) {
        Py_XDECREF(keys);
        return NULL;
    }
    return keys;
}

static PyObject *encode(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    Buffer packed = {NULL, 0, 0};
    PyObject *keys = encode_parts(args, nargs, &packed), *result = NULL;
    if (keys != NULL) {
        PyObject *bytes = PyBytes_FromStringAndSize(packed.data, packed.size);
        if (bytes != NULL) {
            result = PyTuple_Pack(2, keys, bytes);
            Py_DECREF(bytes);
        }
        Py_DECREF(keys);
    }
    PyMem_Free(packed.data);
    return result;
}

static PyObject *script_sha; /* the script's SHA1, as ASCII bytes (from setup) */

/* A RESP bulk string: $<size>\r\n<data>\r\n. */
static int put_bulk(Buffer *b, const char *data, Py_ssize_t size) {
    char head[32];
    int written = snprintf(head, sizeof head, "$%zd\r\n", size);
    if (put(b, head, written) < 0 || put(b, data, size) < 0) return -1;
    return put(b, "\r\n", 2);
}

/* command(items, now): the whole EVALSHA command in RESP, as resp.pack_command frames
 * ("EVALSHA", sha, len(keys), *keys, packed) from encode's keys and packed. */
static PyObject *command(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    Buffer packed = {NULL, 0, 0}, out = {NULL, 0, 0};
    PyObject *keys = encode_parts(args, nargs, &packed), *result = NULL;
    if (keys == NULL) goto done;
    Py_ssize_t count = PyList_GET_SIZE(keys);
    char head[64], number[32];
    int written = snprintf(head, sizeof head, "*%zd\r\n$7\r\nEVALSHA\r\n", count + 4);
    int digits = snprintf(number, sizeof number, "%zd", count);
    if (put(&out, head, written) < 0 ||
        put_bulk(&out, PyBytes_AS_STRING(script_sha), PyBytes_GET_SIZE(script_sha)) < 0 ||
        put_bulk(&out, number, digits) < 0) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t size;
        const char *text = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(keys, i), &size);
        if (text == NULL || put_bulk(&out, text, size) < 0) goto done;
    }
    if (put_bulk(&out, packed.data, packed.size) < 0) goto done;
    result = PyBytes_FromStringAndSize(out.data, out.size);
done:
    Py_XDECREF(keys);
    PyMem_Free(packed.data);
    PyMem_Free(out.data);
    return result;
}

static PyObject *setup(PyObject *module, PyObject *args) {
    Kinds k;
    PyObject *sha;
    if (!PyArg_ParseTuple(args, "OOOOOOOlO!", &k.rate_hit, &k.distinct_count, &k.distinct_add,
                          &k.value_get, &k.value_put, &k.places_back, &k.steps_back, &k.buckets,
                          &PyBytes_Type, &sha)) {
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
    Py_INCREF(k.places_back);
    Py_INCREF(k.steps_back);
    Py_XDECREF(script_sha);
    script_sha = Py_NewRef(sha);
    kinds = k;
    ready = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"encode", (PyCFunction)(void (*)(void))encode, METH_FASTCALL,
     "encode(items, now) -> (keys, packed): the script call of (op, at) pairs."},
    {"command", (PyCFunction)(void (*)(void))command, METH_FASTCALL,
     "command(items, now) -> bytes: the whole EVALSHA of (op, at) pairs, framed in RESP."},
    {"setup", setup, METH_VARARGS,
     "setup(RateHit, DistinctCount, DistinctAdd, ValueGet, ValuePut, PlacesBack, StepsBack, "
     "buckets, sha): sha is the script's SHA1 as ASCII bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "guard.store._batch",
    "The Redis store's script call, encoded in C (see guard/store/redis.py: _Encoder).", -1,
    methods, NULL, NULL, NULL, NULL,
};


PyMODINIT_FUNC PyInit__batch(void) {
    INTERN(s_key, "key");
    INTERN(s_limit, "limit");
    INTERN(s_period, "period");
    INTERN(s_cost, "cost");
    INTERN(s_window, "window");
    INTERN(s_reserve, "reserve");
    INTERN(s_member, "member");
    INTERN(s_release, "release");
    INTERN(s_ttl, "ttl");
    INTERN(s_value, "value");
    INTERN(s_pack, "pack");
    INTERN(s_places, "places");
    INTERN(s_steps, "steps");
    return PyModule_Create(&module_def);
}
