/* Header decoding in C: the native twin of the common case of guard.facts._decode_headers.
 *
 * decode(raw, max_value) takes an ASGI scope's headers and returns (names, headers) exactly
 * as the Python function's one-pass path would: names in order, a name -> value dict, both
 * decoded from Latin-1. It handles only what that path handles without doubt: a list or
 * tuple of (bytes, bytes) pairs, names in lowercase ASCII (at least one letter among them,
 * as str.islower() asks), each name once, no value longer than max_value. Anything else
 * (repeated names, capitals, non-ASCII names, huge values, items that are not byte pairs)
 * returns None, and the Python code takes its careful path as it always did, so both
 * implementations give the same facts for every input (tests/facts/test_headers_native.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *decode(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "decode(raw, max_value)");
        return NULL;
    }
    PyObject *raw = args[0];
    Py_ssize_t max_value = PyLong_AsSsize_t(args[1]);
    if (max_value == -1 && PyErr_Occurred()) return NULL;
    if (!PyList_CheckExact(raw) && !PyTuple_CheckExact(raw)) Py_RETURN_NONE;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(raw);
    PyObject *names = PyTuple_New(count);
    PyObject *headers = PyDict_New();
    if (names == NULL || headers == NULL) goto fail;
    int cased = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        /* A list may change under us only through Python code, and none runs here. */
        PyObject *item = PySequence_Fast_GET_ITEM(raw, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) goto fallback;
        PyObject *key = PyTuple_GET_ITEM(item, 0), *value = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_CheckExact(key) || !PyBytes_CheckExact(value)) goto fallback;
        Py_ssize_t key_size = PyBytes_GET_SIZE(key), value_size = PyBytes_GET_SIZE(value);
        if (value_size > max_value) goto fallback;
        const unsigned char *text = (const unsigned char *)PyBytes_AS_STRING(key);
        for (Py_ssize_t j = 0; j < key_size; j++) {
            unsigned char c = text[j];
            if (c >= 0x80 || (c >= 'A' && c <= 'Z')) goto fallback;
            if (c >= 'a' && c <= 'z') cased = 1;
        }
        /* ASCII: the Latin-1 text is the bytes themselves. */
        PyObject *name = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(key), key_size, NULL);
        if (name == NULL) goto fail;
        PyTuple_SET_ITEM(names, i, name); /* steals the reference */
        PyObject *decoded = PyUnicode_DecodeLatin1(PyBytes_AS_STRING(value), value_size, NULL);
        if (decoded == NULL) goto fail;
        int status = PyDict_SetItem(headers, name, decoded);
        Py_DECREF(decoded);
        if (status < 0) goto fail;
        if (PyDict_GET_SIZE(headers) != i + 1) goto fallback; /* a repeated name */
    }
    if (!cased) goto fallback; /* "".islower() and "123".islower() are False */
    PyObject *result = PyTuple_Pack(2, names, headers);
    Py_DECREF(names);
    Py_DECREF(headers);
    return result;
fallback:
    Py_XDECREF(names);
    Py_XDECREF(headers);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(names);
    Py_XDECREF(headers);
    return NULL;
}

static PyMethodDef methods[] = {
    {"decode", (PyCFunction)(void (*)(void))decode, METH_FASTCALL,
     "decode(raw, max_value) -> (names, headers) or None: the one-pass header decoding."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "guard.facts._headers",
    "Header decoding in C (see guard/facts/__init__.py: _decode_headers).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__headers(void) { return PyModule_Create(&module_def); }
