/* A client's profile and discovery ledger in C: the native twins of
 * guard.signals.profile.ClientProfile and guard.signals.ledger.Ledger.
 *
 * The behaviour signal loads a profile, counts the request into it (observe), scores it,
 * and stores it back packed, on every request; the discovery signal reads and fills its
 * ledger. Those are the signals' per-request arithmetic, and here they run on C fields
 * instead of Python objects. The Python classes are the specification: each step below
 * mirrors their lines in the same order, with the same IEEE operations (the build turns off
 * fused multiply-adds, so no rounding differs), and pack() writes the same bytes, so either
 * twin reads what the other stored. tests/fuzz/test_properties.py replays random histories
 * through both and requires the same fields and bytes; the profile and ledger tests run on
 * both, and tests/signals/test_profile_native.py checks how they fail.
 */
#define PY_SSIZE_T_CLEAN
/* No fused multiply-adds, whatever the build's flags (hatch_build.py passes
 * -ffp-contract=off too): a fused a * b + c rounds once where Python rounds twice. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <Python.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

/* ledger.py */
#define MAX_SHOWN 160
#define LEDGER_HEADER 18 /* struct "<5Hq" */
/* profile.py */
#define PROFILE_FIXED 94 /* struct "<d2f4I11HqQ5fI" */
#define RELOAD_SECONDS 3.0
#define FAST_RATE_TAU 10.0
#define SLOW_RATE_TAU 300.0
#define NIGHT_HOURS 6
#define PATH_BITS 64
#define REFERRER_NONE 0
#define REFERRER_SITE 1
#define U16 0xFFFFLL
#define U32 0xFFFFFFFFLL

static PyObject *struct_error; /* struct.error, raised where the Python twin's struct does */
static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

/* zlib.crc32(text.encode("utf-8", "replace")) */
static int text_crc(PyObject *text, uint32_t *out) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "expected a str, not %.80s", Py_TYPE(text)->tp_name);
        return -1;
    }
    PyObject *encoded = NULL;
    Py_ssize_t size;
    const char *data = PyUnicode_AsUTF8AndSize(text, &size);
    if (data == NULL) { /* lone surrogates: encode them as "?" like errors="replace" */
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
        PyErr_Clear();
        encoded = PyUnicode_AsEncodedString(text, "utf-8", "replace");
        if (encoded == NULL) return -1;
        data = PyBytes_AS_STRING(encoded);
        size = PyBytes_GET_SIZE(encoded);
    }
    uint32_t c = 0xFFFFFFFFu;
    for (Py_ssize_t i = 0; i < size; i++) c = crc_table[(c ^ (unsigned char)data[i]) & 0xFF] ^ (c >> 8);
    *out = c ^ 0xFFFFFFFFu;
    Py_XDECREF(encoded);
    return 0;
}

static long long at_most(long long value, long long cap) { return value < cap ? value : cap; }

/* counter += by, stopping at the largest int64 (Python's ints go on, but pack() saturates
 * far below it either way) */
static void bump(long long *counter, long long by) {
    if (__builtin_add_overflow(*counter, by, counter)) *counter = by < 0 ? LLONG_MIN : LLONG_MAX;
}

/* 1 <= abs(a - b) <= 3, without overflowing where Python's ints would not */
static int near(long long a, long long b) {
    long long diff;
    if (__builtin_sub_overflow(a, b, &diff)) return 0;
    return diff != 0 && diff >= -3 && diff <= 3;
}

static void put_u16(unsigned char *at, long long v) {
    at[0] = (unsigned char)(v & 0xFF);
    at[1] = (unsigned char)((v >> 8) & 0xFF);
}
static void put_u64(unsigned char *at, uint64_t v) {
    for (int i = 0; i < 8; i++) at[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_u64(const unsigned char *at) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | at[i];
    return v;
}
static long long get_u16(const unsigned char *at) { return at[0] | (at[1] << 8); }
static long long get_u32(const unsigned char *at) {
    return (long long)at[0] | (long long)at[1] << 8 | (long long)at[2] << 16 | (long long)at[3] << 24;
}

/* ------------------------------------------------------------------------------------ */
/* Ledger                                                                               */

typedef struct {
    PyObject_HEAD
    long long cold, warm, streak, cold_steps, last_mark, last_cold;
    PyObject *shown; /* a bytearray of 16-bit marks */
} Ledger;

static PyTypeObject LedgerType;

static Ledger *ledger_new_empty(void) {
    Ledger *self = PyObject_New(Ledger, &LedgerType);
    if (self == NULL) return NULL;
    self->cold = self->warm = self->streak = self->cold_steps = self->last_mark = 0;
    self->last_cold = -1;
    self->shown = PyByteArray_FromStringAndSize(NULL, 0);
    if (self->shown == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return self;
}

static void ledger_dealloc(Ledger *self) {
    Py_XDECREF(self->shown);
    PyObject_Free(self);
}

static PyObject *ledger_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"cold", "warm", "streak", "cold_steps", "last_mark", "last_cold",
                            "shown", NULL};
    long long cold = 0, warm = 0, streak = 0, cold_steps = 0, last_mark = 0, last_cold = -1;
    PyObject *shown = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|LLLLLLO!:Ledger", names, &cold, &warm,
                                     &streak, &cold_steps, &last_mark, &last_cold,
                                     &PyByteArray_Type, &shown)) {
        return NULL;
    }
    Ledger *self = ledger_new_empty();
    if (self == NULL) return NULL;
    self->cold = cold;
    self->warm = warm;
    self->streak = streak;
    self->cold_steps = cold_steps;
    self->last_mark = last_mark;
    self->last_cold = last_cold;
    if (shown != NULL) {
        Py_INCREF(shown);
        Py_SETREF(self->shown, shown);
    }
    return (PyObject *)self;
}

/* Ledger._find: the mark at an even offset */
static int ledger_find(Ledger *self, long long mark) {
    Py_ssize_t size = PyByteArray_GET_SIZE(self->shown);
    const unsigned char *shown = (const unsigned char *)PyByteArray_AS_STRING(self->shown);
    unsigned char lo = (unsigned char)(mark & 0xFF), hi = (unsigned char)(mark >> 8);
    for (Py_ssize_t i = 0; i + 1 < size; i += 2) {
        if (shown[i] == lo && shown[i + 1] == hi) return 1;
    }
    return 0;
}

static int fingerprint(PyObject *record, long long *mark) {
    uint32_t crc;
    if (text_crc(record, &crc) < 0) return -1;
    *mark = crc & 0xFFFF;
    return 0;
}

static PyObject *ledger_show(Ledger *self, PyObject *record) {
    long long mark;
    if (fingerprint(record, &mark) < 0) return NULL;
    if (ledger_find(self, mark)) Py_RETURN_NONE;
    Py_ssize_t size = PyByteArray_GET_SIZE(self->shown);
    if (PyByteArray_Resize(self->shown, size + 2) < 0) return NULL;
    unsigned char *shown = (unsigned char *)PyByteArray_AS_STRING(self->shown);
    put_u16(shown + size, mark);
    size += 2;
    if (size > MAX_SHOWN * 2) { /* forget the oldest */
        memmove(shown, shown + size - MAX_SHOWN * 2, MAX_SHOWN * 2);
        if (PyByteArray_Resize(self->shown, MAX_SHOWN * 2) < 0) return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *ledger_was_shown(Ledger *self, PyObject *record) {
    long long mark;
    if (fingerprint(record, &mark) < 0) return NULL;
    return PyBool_FromLong(ledger_find(self, mark));
}

static PyObject *ledger_read(Ledger *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "read(record, number)");
        return NULL;
    }
    long long mark, number = 0;
    int numbered = args[1] != Py_None;
    if (fingerprint(args[0], &mark) < 0) return NULL;
    if (numbered) {
        number = PyLong_AsLongLong(args[1]);
        if (number == -1 && PyErr_Occurred()) return NULL;
    }
    if (ledger_find(self, mark)) {
        self->warm = at_most(self->warm + 1, U16);
        self->streak = self->cold_steps = 0;
        Py_RETURN_TRUE;
    }
    if (self->streak > 0 && mark == self->last_mark) Py_RETURN_FALSE; /* the same one again */
    self->last_mark = mark;
    self->cold = at_most(self->cold + 1, U16);
    self->streak = at_most(self->streak + 1, U16);
    if (numbered) {
        if (self->streak > 1 && self->last_cold >= 0 && near(number, self->last_cold)) {
            self->cold_steps = at_most(self->cold_steps + 1, U16);
        }
        self->last_cold = number;
    }
    Py_RETURN_FALSE;
}

/* The ledger's packed bytes appended at ``out`` (which has room for them); -1 on error. */
static Py_ssize_t ledger_pack_into(Ledger *self, unsigned char *out) {
    long long shorts[5] = {self->cold, self->warm, self->streak, self->cold_steps,
                           self->last_mark};
    for (int i = 0; i < 5; i++) {
        if (shorts[i] < 0 || shorts[i] > U16) {
            PyErr_SetString(struct_error, "ushort format requires 0 <= number <= 65535");
            return -1;
        }
        put_u16(out + 2 * i, shorts[i]);
    }
    put_u64(out + 10, (uint64_t)self->last_cold);
    Py_ssize_t size = PyByteArray_GET_SIZE(self->shown);
    memcpy(out + LEDGER_HEADER, PyByteArray_AS_STRING(self->shown), size);
    return LEDGER_HEADER + size;
}

static PyObject *ledger_pack(Ledger *self, PyObject *unused) {
    PyObject *packed =
        PyBytes_FromStringAndSize(NULL, LEDGER_HEADER + PyByteArray_GET_SIZE(self->shown));
    if (packed == NULL) return NULL;
    if (ledger_pack_into(self, (unsigned char *)PyBytes_AS_STRING(packed)) < 0) {
        Py_DECREF(packed);
        return NULL;
    }
    return packed;
}

static Ledger *ledger_from(const unsigned char *data, Py_ssize_t size) {
    Ledger *self = ledger_new_empty();
    if (self == NULL || size < LEDGER_HEADER) return self;
    self->cold = get_u16(data);
    self->warm = get_u16(data + 2);
    self->streak = get_u16(data + 4);
    self->cold_steps = get_u16(data + 6);
    self->last_mark = get_u16(data + 8);
    self->last_cold = (long long)get_u64(data + 10);
    Py_ssize_t shown = size - LEDGER_HEADER;
    if (shown > MAX_SHOWN * 2) shown = MAX_SHOWN * 2;
    shown -= shown % 2;
    if (shown && PyByteArray_Resize(self->shown, shown) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    memcpy(PyByteArray_AS_STRING(self->shown), data + LEDGER_HEADER, shown);
    return self;
}

static PyObject *ledger_unpack(PyObject *cls, PyObject *data) {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    Ledger *self = ledger_from(view.buf, view.len);
    PyBuffer_Release(&view);
    return (PyObject *)self;
}

static PyObject *ledger_get_shown(Ledger *self, void *closure) { return Py_NewRef(self->shown); }

static int ledger_set_shown(Ledger *self, PyObject *value, void *closure) {
    if (value == NULL || !PyByteArray_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "shown must be a bytearray");
        return -1;
    }
    Py_INCREF(value);
    Py_SETREF(self->shown, value);
    return 0;
}

static int ledger_equal(Ledger *a, Ledger *b) {
    if (a->cold != b->cold || a->warm != b->warm || a->streak != b->streak ||
        a->cold_steps != b->cold_steps || a->last_mark != b->last_mark ||
        a->last_cold != b->last_cold) {
        return 0;
    }
    return PyObject_RichCompareBool(a->shown, b->shown, Py_EQ);
}

static PyObject *ledger_richcompare(PyObject *a, PyObject *b, int op) {
    if ((op != Py_EQ && op != Py_NE) || !Py_IS_TYPE(b, &LedgerType)) Py_RETURN_NOTIMPLEMENTED;
    int equal = ledger_equal((Ledger *)a, (Ledger *)b);
    if (equal < 0) return NULL;
    return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

static PyObject *ledger_repr(Ledger *self) {
    return PyUnicode_FromFormat(
        "Ledger(cold=%lld, warm=%lld, streak=%lld, cold_steps=%lld, last_mark=%lld, "
        "last_cold=%lld, shown=%R)",
        self->cold, self->warm, self->streak, self->cold_steps, self->last_mark,
        self->last_cold, self->shown);
}

static PyMemberDef ledger_members[] = {
    {"cold", T_LONGLONG, offsetof(Ledger, cold), 0, NULL},
    {"warm", T_LONGLONG, offsetof(Ledger, warm), 0, NULL},
    {"streak", T_LONGLONG, offsetof(Ledger, streak), 0, NULL},
    {"cold_steps", T_LONGLONG, offsetof(Ledger, cold_steps), 0, NULL},
    {"last_mark", T_LONGLONG, offsetof(Ledger, last_mark), 0, NULL},
    {"last_cold", T_LONGLONG, offsetof(Ledger, last_cold), 0, NULL},
    {NULL},
};

static PyGetSetDef ledger_getset[] = {
    {"shown", (getter)ledger_get_shown, (setter)ledger_set_shown, NULL, NULL},
    {NULL},
};

static PyMethodDef ledger_methods[] = {
    {"show", (PyCFunction)ledger_show, METH_O, "Note that the client was shown record."},
    {"was_shown", (PyCFunction)ledger_was_shown, METH_O, "Whether record was shown lately."},
    {"read", (PyCFunction)(void (*)(void))ledger_read, METH_FASTCALL,
     "Count a read of record (number: its id as a number, or None); whether it was shown."},
    {"pack", (PyCFunction)ledger_pack, METH_NOARGS, "18 bytes of counters, then the marks."},
    {"unpack", (PyCFunction)ledger_unpack, METH_O | METH_CLASS, "The inverse of pack."},
    {NULL},
};

static PyTypeObject LedgerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "guard.signals._profile.Ledger",
    .tp_basicsize = sizeof(Ledger),
    .tp_dealloc = (destructor)ledger_dealloc,
    .tp_repr = (reprfunc)ledger_repr,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "What a client was shown and how it read records (see guard/signals/ledger.py).",
    .tp_richcompare = ledger_richcompare,
    .tp_methods = ledger_methods,
    .tp_members = ledger_members,
    .tp_getset = ledger_getset,
    .tp_new = ledger_tp_new,
};

/* ------------------------------------------------------------------------------------ */
/* ClientProfile                                                                        */

typedef struct {
    PyObject_HEAD
    double first_seen, last_seen;
    long long requests, documents, statics, records; /* packed as uint32 */
    long long sequential_steps, cookie_returns, robots_fetches, honeypot_hits, client_errors,
        doc_gap_count, empty_referrers, site_referrers, heads, night_documents,
        api_requests; /* packed as uint16 */
    long long last_record;
    unsigned long long paths_seen;
    double doc_gap_mean, doc_gap_m2, doc_gap_min, rate_fast, rate_slow, last_document;
    unsigned long long last_path;
    Ledger *ledger;
} Profile;

static PyTypeObject ProfileType;

static void profile_dealloc(Profile *self) {
    Py_XDECREF(self->ledger);
    PyObject_Free(self);
}

/* A profile with every field at its default, owning a new empty ledger unless given one. */
static Profile *profile_alloc(Ledger *ledger) {
    Profile *self = PyObject_New(Profile, &ProfileType);
    if (self == NULL) return NULL;
    memset((char *)self + sizeof(PyObject), 0, sizeof(Profile) - sizeof(PyObject));
    self->last_record = -1;
    self->ledger = ledger != NULL ? (Ledger *)Py_NewRef(ledger) : ledger_new_empty();
    if (self->ledger == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return self;
}

static PyObject *profile_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *names[] = {
        "first_seen",     "last_seen",       "requests",      "documents",
        "statics",        "records",         "sequential_steps", "cookie_returns",
        "robots_fetches", "honeypot_hits",   "client_errors", "doc_gap_count",
        "empty_referrers", "site_referrers", "heads",         "night_documents",
        "api_requests",   "last_record",     "paths_seen",    "doc_gap_mean",
        "doc_gap_m2",     "doc_gap_min",     "rate_fast",     "rate_slow",
        "last_document",  "last_path",       "ledger",        NULL};
    Profile v;
    memset(&v, 0, sizeof v);
    v.last_record = -1;
    PyObject *ledger = NULL;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "|ddLLLLLLLLLLLLLLLLKddddddKO!:ClientProfile", names, &v.first_seen,
            &v.last_seen, &v.requests, &v.documents, &v.statics, &v.records,
            &v.sequential_steps, &v.cookie_returns, &v.robots_fetches, &v.honeypot_hits,
            &v.client_errors, &v.doc_gap_count, &v.empty_referrers, &v.site_referrers,
            &v.heads, &v.night_documents, &v.api_requests, &v.last_record, &v.paths_seen,
            &v.doc_gap_mean, &v.doc_gap_m2, &v.doc_gap_min, &v.rate_fast, &v.rate_slow,
            &v.last_document, &v.last_path, &LedgerType, &ledger)) {
        return NULL;
    }
    if (v.last_path > 0xFFFFFFFFull) {
        PyErr_SetString(PyExc_OverflowError, "last_path is a CRC-32: at most 0xFFFFFFFF");
        return NULL;
    }
    Profile *self = profile_alloc((Ledger *)ledger);
    if (self == NULL) return NULL;
    Ledger *own = self->ledger;
    memcpy((char *)self + sizeof(PyObject), (char *)&v + sizeof(PyObject),
           sizeof(Profile) - sizeof(PyObject));
    self->ledger = own;
    return (PyObject *)self;
}

enum { A_STATIC, A_RECORD, A_TRACKED, A_ROBOTS, A_HONEYPOT, A_PATH, A_REFERRER, A_HEAD, A_API,
       A_LOCAL_HOUR, A_COUNT };
static const char *observe_names[A_COUNT] = {"static", "record",   "tracked",  "robots",
                                             "honeypot", "path",   "referrer", "head",
                                             "api",    "local_hour"};
static PyObject *observe_keys[A_COUNT]; /* interned: call sites' keywords are the same objects */
static PyObject *empty_text;

static int find_keyword(PyObject *name) {
    for (int i = 0; i < A_COUNT; i++) {
        if (name == observe_keys[i]) return i;
    }
    for (int i = 0; i < A_COUNT; i++) {
        if (PyUnicode_Compare(name, observe_keys[i]) == 0) return i;
    }
    return -1;
}

/* ``value`` as a count to add, as `counter += value` adds a bool or an int */
static int as_count(PyObject *value, long long *out) {
    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "expected a bool or an int, not %.80s",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    *out = PyLong_AsLongLong(value);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject *profile_observe(Profile *self, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames) {
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *given[A_COUNT] = {NULL};
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "observe() takes the time and keyword arguments");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nkw; i++) {
        int at = find_keyword(PyTuple_GET_ITEM(kwnames, i));
        if (at < 0) {
            PyErr_Format(PyExc_TypeError, "observe() got an unexpected keyword argument '%U'",
                         PyTuple_GET_ITEM(kwnames, i));
            return NULL;
        }
        given[at] = args[nargs + i];
    }
    for (int i = A_STATIC; i <= A_HONEYPOT; i++) {
        if (given[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "observe() missing keyword argument '%s'",
                         observe_names[i]);
            return NULL;
        }
    }
    double now = PyFloat_AsDouble(args[0]);
    if (now == -1.0 && PyErr_Occurred()) return NULL;
    int is_static = PyObject_IsTrue(given[A_STATIC]);
    if (is_static < 0) return NULL;
    long long tracked, robots, honeypot, head = 0, api = 0, referrer = REFERRER_NONE;
    long long record = 0;
    int has_record = given[A_RECORD] != Py_None;
    double local_hour = 12.0;
    if (as_count(given[A_TRACKED], &tracked) < 0 || as_count(given[A_ROBOTS], &robots) < 0 ||
        as_count(given[A_HONEYPOT], &honeypot) < 0 ||
        (given[A_HEAD] && as_count(given[A_HEAD], &head) < 0) ||
        (given[A_API] && as_count(given[A_API], &api) < 0) ||
        (given[A_REFERRER] && as_count(given[A_REFERRER], &referrer) < 0)) {
        return NULL;
    }
    if (has_record) {
        record = PyLong_AsLongLong(given[A_RECORD]);
        if (record == -1 && PyErr_Occurred()) return NULL;
    }
    if (given[A_LOCAL_HOUR] != NULL) {
        local_hour = PyFloat_AsDouble(given[A_LOCAL_HOUR]);
        if (local_hour == -1.0 && PyErr_Occurred()) return NULL;
    }
    uint32_t path_hash = 0;
    if (!is_static && text_crc(given[A_PATH] ? given[A_PATH] : empty_text, &path_hash) < 0) {
        return NULL;
    }

    if (self->requests == 0) self->first_seen = now;
    bump(&self->requests, 1);
    self->last_seen = now;
    bump(&self->cookie_returns, tracked);
    bump(&self->robots_fetches, robots);
    bump(&self->honeypot_hits, honeypot);
    bump(&self->heads, head);
    bump(&self->api_requests, api);
    if (is_static) {
        bump(&self->statics, 1);
        Py_RETURN_NONE;
    }
    double since = now - self->last_document;
    if (path_hash == self->last_path && 0 <= since && since < RELOAD_SECONDS) {
        Py_RETURN_NONE; /* the same page again at once: a reload, or the return from a challenge */
    }
    self->last_path = path_hash;
    self->paths_seen |= 1ULL << (path_hash % PATH_BITS);
    bump(&self->empty_referrers, referrer == REFERRER_NONE);
    bump(&self->site_referrers, referrer == REFERRER_SITE);
    bump(&self->night_documents, local_hour < NIGHT_HOURS);
    if (self->documents) {
        double gap = 0.0 > since ? 0.0 : since; /* max(since, 0.0) */
        bump(&self->doc_gap_count, 1);
        double delta = gap - self->doc_gap_mean;
        self->doc_gap_mean += delta / (double)self->doc_gap_count;
        self->doc_gap_m2 += delta * (gap - self->doc_gap_mean);
        if (self->doc_gap_count == 1 || gap < self->doc_gap_min) self->doc_gap_min = gap;
        self->rate_fast = self->rate_fast * exp(-gap / FAST_RATE_TAU) + 1.0;
        self->rate_slow = self->rate_slow * exp(-gap / SLOW_RATE_TAU) + 1.0;
    } else {
        self->rate_fast = self->rate_slow = 1.0;
    }
    bump(&self->documents, 1);
    self->last_document = now;
    if (has_record) {
        if (self->last_record >= 0 && near(record, self->last_record)) {
            bump(&self->sequential_steps, 1);
        }
        bump(&self->records, 1);
        self->last_record = record;
    }
    Py_RETURN_NONE;
}

static PyObject *profile_observe_status(Profile *self, PyObject *status) {
    int client_error;
    if (PyLong_Check(status)) {
        int overflow;
        long long code = PyLong_AsLongLongAndOverflow(status, &overflow);
        if (code == -1 && PyErr_Occurred()) return NULL;
        client_error = !overflow && 400 <= code && code < 500;
    } else { /* a number of another kind, compared as Python compares it */
        double code = PyFloat_AsDouble(status);
        if (code == -1.0 && PyErr_Occurred()) return NULL;
        client_error = 400 <= code && code < 500;
    }
    if (client_error) bump(&self->client_errors, 1);
    Py_RETURN_NONE;
}

static PyObject *profile_distinct_paths(Profile *self, void *closure) {
    int empty = PATH_BITS - __builtin_popcountll(self->paths_seen);
    if (empty == 0) return PyFloat_FromDouble(PATH_BITS * log((double)PATH_BITS));
    return PyFloat_FromDouble(-(double)PATH_BITS * log((double)empty / PATH_BITS));
}

static PyObject *profile_doc_gap_cv(Profile *self, void *closure) {
    if (self->doc_gap_count < 2 || self->doc_gap_mean <= 0) return PyFloat_FromDouble(INFINITY);
    double variance = self->doc_gap_m2 / (double)(self->doc_gap_count - 1);
    if (variance < 0) {
        PyErr_SetString(PyExc_ValueError, "math domain error"); /* as math.sqrt says */
        return NULL;
    }
    return PyFloat_FromDouble(sqrt(variance) / self->doc_gap_mean);
}

static int put_counter(unsigned char *at, long long value, long long cap, int width) {
    if (value < 0) {
        PyErr_SetString(struct_error, "a profile's counter is negative");
        return -1;
    }
    value = at_most(value, cap); /* saturate, as ClientProfile._saturated does */
    if (width == 2) {
        put_u16(at, value);
    } else {
        for (int i = 0; i < 4; i++) at[i] = (unsigned char)(value >> (8 * i));
    }
    return 0;
}

static PyObject *profile_pack(Profile *self, PyObject *unused) {
    Py_ssize_t shown = PyByteArray_GET_SIZE(self->ledger->shown);
    PyObject *packed = PyBytes_FromStringAndSize(NULL, PROFILE_FIXED + LEDGER_HEADER + shown);
    if (packed == NULL) return NULL;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(packed);
    double base = self->first_seen;
    long long wide[4] = {self->requests, self->documents, self->statics, self->records};
    long long narrow[11] = {self->sequential_steps, self->cookie_returns, self->robots_fetches,
                            self->honeypot_hits,    self->client_errors,  self->doc_gap_count,
                            self->empty_referrers,  self->site_referrers, self->heads,
                            self->night_documents,  self->api_requests};
    double singles[5] = {self->doc_gap_mean, self->doc_gap_m2, self->doc_gap_min,
                         self->rate_fast, self->rate_slow};
    if (PyFloat_Pack8(base, (char *)out, 1) < 0 ||
        PyFloat_Pack4(self->last_seen - base, (char *)out + 8, 1) < 0 ||
        PyFloat_Pack4(self->last_document - base, (char *)out + 12, 1) < 0) {
        goto fail;
    }
    for (int i = 0; i < 4; i++) {
        if (put_counter(out + 16 + 4 * i, wide[i], U32, 4) < 0) goto fail;
    }
    for (int i = 0; i < 11; i++) {
        if (put_counter(out + 32 + 2 * i, narrow[i], U16, 2) < 0) goto fail;
    }
    put_u64(out + 54, (uint64_t)self->last_record);
    put_u64(out + 62, self->paths_seen);
    for (int i = 0; i < 5; i++) {
        if (PyFloat_Pack4(singles[i], (char *)out + 70 + 4 * i, 1) < 0) goto fail;
    }
    for (int i = 0; i < 4; i++) out[90 + i] = (unsigned char)(self->last_path >> (8 * i));
    if (ledger_pack_into(self->ledger, out + PROFILE_FIXED) < 0) goto fail;
    return packed;
fail:
    Py_DECREF(packed);
    return NULL;
}

static PyObject *profile_unpack(PyObject *cls, PyObject *data) {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    Profile *self = NULL;
    if (view.len < PROFILE_FIXED) {
        PyErr_Format(struct_error,
                     "unpack_from requires a buffer of at least %d bytes for unpacking %d "
                     "bytes at offset 0 (actual buffer size is %zd)",
                     PROFILE_FIXED, PROFILE_FIXED, view.len);
        goto done;
    }
    const unsigned char *in = view.buf;
    Ledger *ledger = ledger_from(in + PROFILE_FIXED, view.len - PROFILE_FIXED);
    if (ledger == NULL) goto done;
    self = profile_alloc(ledger);
    Py_DECREF(ledger);
    if (self == NULL) goto done;
    double base = PyFloat_Unpack8((const char *)in, 1);
    self->first_seen = base;
    self->last_seen = base + PyFloat_Unpack4((const char *)in + 8, 1);
    self->last_document = base + PyFloat_Unpack4((const char *)in + 12, 1);
    long long *wide[4] = {&self->requests, &self->documents, &self->statics, &self->records};
    long long *narrow[11] = {&self->sequential_steps, &self->cookie_returns,
                             &self->robots_fetches,   &self->honeypot_hits,
                             &self->client_errors,    &self->doc_gap_count,
                             &self->empty_referrers,  &self->site_referrers,
                             &self->heads,            &self->night_documents,
                             &self->api_requests};
    double *singles[5] = {&self->doc_gap_mean, &self->doc_gap_m2, &self->doc_gap_min,
                          &self->rate_fast, &self->rate_slow};
    for (int i = 0; i < 4; i++) *wide[i] = get_u32(in + 16 + 4 * i);
    for (int i = 0; i < 11; i++) *narrow[i] = get_u16(in + 32 + 2 * i);
    self->last_record = (long long)get_u64(in + 54);
    self->paths_seen = get_u64(in + 62);
    for (int i = 0; i < 5; i++) *singles[i] = PyFloat_Unpack4((const char *)in + 70 + 4 * i, 1);
    self->last_path = (unsigned long long)get_u32(in + 90);
done:
    PyBuffer_Release(&view);
    return (PyObject *)self;
}

static PyObject *profile_get_ledger(Profile *self, void *closure) {
    return Py_NewRef((PyObject *)self->ledger);
}

static int profile_set_ledger(Profile *self, PyObject *value, void *closure) {
    if (value == NULL || !Py_IS_TYPE(value, &LedgerType)) {
        PyErr_SetString(PyExc_TypeError, "ledger must be a guard.signals._profile.Ledger");
        return -1;
    }
    Py_INCREF(value);
    Py_SETREF(self->ledger, (Ledger *)value);
    return 0;
}

#define DOUBLE(name) {#name, T_DOUBLE, offsetof(Profile, name), 0, NULL}
#define LONG(name) {#name, T_LONGLONG, offsetof(Profile, name), 0, NULL}
static PyMemberDef profile_members[] = {
    DOUBLE(first_seen),     DOUBLE(last_seen),       LONG(requests),
    LONG(documents),        LONG(statics),           LONG(records),
    LONG(sequential_steps), LONG(cookie_returns),    LONG(robots_fetches),
    LONG(honeypot_hits),    LONG(client_errors),     LONG(doc_gap_count),
    LONG(empty_referrers),  LONG(site_referrers),    LONG(heads),
    LONG(night_documents),  LONG(api_requests),      LONG(last_record),
    {"paths_seen", T_ULONGLONG, offsetof(Profile, paths_seen), 0, NULL},
    DOUBLE(doc_gap_mean),   DOUBLE(doc_gap_m2),      DOUBLE(doc_gap_min),
    DOUBLE(rate_fast),      DOUBLE(rate_slow),       DOUBLE(last_document),
    {"last_path", T_ULONGLONG, offsetof(Profile, last_path), READONLY, NULL},
    {NULL},
};

static PyGetSetDef profile_getset[] = {
    {"ledger", (getter)profile_get_ledger, (setter)profile_set_ledger, NULL, NULL},
    {"distinct_paths", (getter)profile_distinct_paths, NULL,
     "About how many distinct page paths the client requested (exact while few).", NULL},
    {"doc_gap_cv", (getter)profile_doc_gap_cv, NULL,
     "Coefficient of variation of the gaps between pages (0 = a metronome).", NULL},
    {NULL},
};

/* Equal as the dataclass's __eq__ finds: every field, in order (floats by value). */
static PyObject *profile_richcompare(PyObject *left, PyObject *right, int op) {
    if ((op != Py_EQ && op != Py_NE) || !Py_IS_TYPE(right, &ProfileType)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    Profile *a = (Profile *)left, *b = (Profile *)right;
    int equal = 1;
    for (PyMemberDef *m = profile_members; m->name != NULL; m++) {
        const char *x = (const char *)a + m->offset, *y = (const char *)b + m->offset;
        if (m->type == T_DOUBLE ? *(const double *)x != *(const double *)y
                                : memcmp(x, y, sizeof(long long)) != 0) {
            equal = 0;
            break;
        }
    }
    if (equal) {
        equal = ledger_equal(a->ledger, b->ledger);
        if (equal < 0) return NULL;
    }
    return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

static PyObject *profile_repr(Profile *self) {
    PyObject *parts = PyList_New(0);
    if (parts == NULL) return NULL;
    PyObject *result = NULL;
    for (PyMemberDef *m = profile_members; m->name != NULL; m++) {
        PyObject *value = PyMember_GetOne((const char *)self, m);
        if (value == NULL) goto done;
        PyObject *part = PyUnicode_FromFormat("%s=%R", m->name, value);
        Py_DECREF(value);
        if (part == NULL || PyList_Append(parts, part) < 0) {
            Py_XDECREF(part);
            goto done;
        }
        Py_DECREF(part);
    }
    PyObject *ledger = PyUnicode_FromFormat("ledger=%R", self->ledger);
    if (ledger == NULL || PyList_Append(parts, ledger) < 0) {
        Py_XDECREF(ledger);
        goto done;
    }
    Py_DECREF(ledger);
    PyObject *joiner = PyUnicode_FromString(", ");
    if (joiner == NULL) goto done;
    PyObject *inner = PyUnicode_Join(joiner, parts);
    Py_DECREF(joiner);
    if (inner == NULL) goto done;
    result = PyUnicode_FromFormat("ClientProfile(%U)", inner);
    Py_DECREF(inner);
done:
    Py_DECREF(parts);
    return result;
}

static PyMethodDef profile_methods[] = {
    {"observe", (PyCFunction)(void (*)(void))profile_observe, METH_FASTCALL | METH_KEYWORDS,
     "Count one request (its status arrives later through observe_status)."},
    {"observe_status", (PyCFunction)profile_observe_status, METH_O,
     "Count the response status of the request last observed."},
    {"pack", (PyCFunction)profile_pack, METH_NOARGS,
     "94 fixed bytes for networked stores (counters saturate, times to ~ms), then the "
     "ledger's."},
    {"unpack", (PyCFunction)profile_unpack, METH_O | METH_CLASS, "The inverse of pack."},
    {NULL},
};

static PyTypeObject ProfileType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "guard.signals._profile.ClientProfile",
    .tp_basicsize = sizeof(Profile),
    .tp_dealloc = (destructor)profile_dealloc,
    .tp_repr = (reprfunc)profile_repr,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Counters for one client (see guard/signals/profile.py).",
    .tp_richcompare = profile_richcompare,
    .tp_methods = profile_methods,
    .tp_members = profile_members,
    .tp_getset = profile_getset,
    .tp_new = profile_tp_new,
};

/* ------------------------------------------------------------------------------------ */

/* setup(MAX_SHOWN, RELOAD_SECONDS, FAST_RATE_TAU, SLOW_RATE_TAU, NIGHT_HOURS, fixed size):
 * the Python's constants, refused (TypeError, so guard.native counts this build as missing
 * and the Python twin serves) when this was compiled from source that had others. */
static PyObject *setup(PyObject *module, PyObject *args) {
    long max_shown, night_hours, fixed;
    double reload, fast, slow;
    if (!PyArg_ParseTuple(args, "ldddll:setup", &max_shown, &reload, &fast, &slow, &night_hours,
                          &fixed)) {
        return NULL;
    }
    if (max_shown != MAX_SHOWN || reload != RELOAD_SECONDS || fast != FAST_RATE_TAU ||
        slow != SLOW_RATE_TAU || night_hours != NIGHT_HOURS || fixed != PROFILE_FIXED) {
        PyErr_SetString(PyExc_TypeError, "setup(): compiled with other constants than these");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(MAX_SHOWN, RELOAD_SECONDS, FAST_RATE_TAU, SLOW_RATE_TAU, NIGHT_HOURS, "
     "fixed_size): refuses constants other than the ones compiled in."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "guard.signals._profile",
    "A client's profile and ledger in C (see guard/signals/profile.py and ledger.py).", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__profile(void) {
    crc_init();
    PyObject *structs = PyImport_ImportModule("struct");
    if (structs == NULL) return NULL;
    struct_error = PyObject_GetAttrString(structs, "error");
    Py_DECREF(structs);
    if (struct_error == NULL) return NULL;
    empty_text = PyUnicode_InternFromString("");
    if (empty_text == NULL) return NULL;
    for (int i = 0; i < A_COUNT; i++) {
        observe_keys[i] = PyUnicode_InternFromString(observe_names[i]);
        if (observe_keys[i] == NULL) return NULL;
    }
    if (PyType_Ready(&LedgerType) < 0 || PyType_Ready(&ProfileType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "Ledger", (PyObject *)&LedgerType) < 0 ||
        PyModule_AddObjectRef(module, "ClientProfile", (PyObject *)&ProfileType) < 0 ||
        PyModule_AddIntConstant(module, "MAX_SHOWN", MAX_SHOWN) < 0 ||
        PyModule_AddObject(module, "RELOAD_SECONDS", PyFloat_FromDouble(RELOAD_SECONDS)) < 0 ||
        PyModule_AddObject(module, "FAST_RATE_TAU", PyFloat_FromDouble(FAST_RATE_TAU)) < 0 ||
        PyModule_AddObject(module, "SLOW_RATE_TAU", PyFloat_FromDouble(SLOW_RATE_TAU)) < 0 ||
        PyModule_AddIntConstant(module, "NIGHT_HOURS", NIGHT_HOURS) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
