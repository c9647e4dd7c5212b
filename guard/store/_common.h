/* What the store's C parts (_memory.c, _batch.c) share: bucket arithmetic exactly as
 * Python computes it, and reading an op's attributes. Included by each, compiled into each. */
#ifndef GUARD_STORE_COMMON_H
#define GUARD_STORE_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* CPython's float floor division (floatobject.c, _float_div_mod), so a bucket index here
 * is the one `now // (window / DISTINCT_BUCKETS)` gives in Python. */
static inline double floor_div(double vx, double wx) {
    double mod = fmod(vx, wx);
    double div = (vx - mod) / wx;
    if (mod && ((wx < 0) != (mod < 0))) div -= 1.0;
    if (!div) return copysign(0.0, vx / wx);
    double floordiv = floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    return floordiv;
}

/* base.bucket_of, for a window kept as `buckets` buckets. */
static inline int bucket_of(double now, double window, long buckets, long long *out) {
    double q = floor_div(now, window / (double)buckets);
    if (!isfinite(q)) {
        PyErr_SetString(PyExc_OverflowError, "cannot convert float infinity to integer");
        return -1;
    }
    *out = (long long)q;
    return 0;
}

/* float(obj.name) */
static inline int get_double(PyObject *obj, PyObject *name, double *out) {
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL) return -1;
    *out = PyFloat_AsDouble(value);
    Py_DECREF(value);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* bool(obj.name), or -1 */
static inline int get_flag(PyObject *obj, PyObject *name) {
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL) return -1;
    int truth = PyObject_IsTrue(value);
    Py_DECREF(value);
    return truth;
}

#define INTERN(var, text)                                  \
    do {                                                   \
        var = PyUnicode_InternFromString(text);            \
        if (var == NULL) return NULL;                      \
    } while (0)

#endif
