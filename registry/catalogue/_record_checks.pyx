# cython: language_level=3, boundscheck=False, wraparound=False
"""`RecordChecker.load` for the records that pass, compiled: an import checks each of a million
records, and in Python the rules cost about as much as parsing the record did.

Only the common case is decided here: a record of the exact shape whose transcript was just
checked (readers share one transcript dict between a document's records) and whose result
breaks no rule. Values that need a real check the first time they are seen (dates, credits,
codes, languages, grade tables) are checked by the Python checker's own functions and their
verdicts remembered there, as they are without this module. Anything else, and every record
with a fault, goes to the Python checks (`RecordChecker.check`), which give the errors; so this
module decides nothing the Python rules would decide otherwise, and words no message.
Built by setup.py when a C compiler is at hand; without it, `RecordChecker` checks in Python.
"""

from cpython.dict cimport PyDict_Copy, PyDict_GetItem, PyDict_Size
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_GET_LENGTH, PyUnicode_READ, PyUnicode_KIND, PyUnicode_DATA


cdef tuple _TEXTS
cdef tuple _KEYS
cdef object _STATUSES
cdef object _credits, _date, _percent, _pattern_checks


def configure(texts, keys, statuses, credits, date, percent, patterns):
    """The rules, from registry.catalogue.transcripts (kept there, once): the text fields as
    (name, length, required), the result's keys, the statuses, and the checks whose verdicts
    are remembered."""
    global _TEXTS, _KEYS, _STATUSES, _credits, _date, _percent, _pattern_checks
    _TEXTS = tuple(texts)
    _KEYS = tuple(keys)
    _STATUSES = tuple(statuses)
    _credits, _date, _percent, _pattern_checks = credits, date, percent, tuple(patterns)


cdef bint _plain_text(object value, Py_ssize_t length):
    """1 to `length` characters, none of them a control character."""
    cdef Py_ssize_t size = PyUnicode_GET_LENGTH(value), i
    cdef int kind = PyUnicode_KIND(value)
    cdef void* data = PyUnicode_DATA(value)
    cdef Py_UCS4 c
    if size < 1 or size > length:
        return False
    for i in range(size):
        c = PyUnicode_READ(kind, data, i)
        if c < 0x20 or c == 0x7f:
            return False
    return True


cdef object _verdict(object checker, dict verdicts, str name, object value, object check):
    """The remembered verdict's value, or the checker's own verdict the first time; _FAULT when
    the value breaks its rule."""
    cdef PyObject* found
    cdef dict known
    cdef object errors
    if type(value) is str:
        found = PyDict_GetItem(verdicts, name)
        if found is not NULL:
            known = <dict>found
            found = PyDict_GetItem(known, value)
            if found is not NULL:
                verdict = <tuple>found
                return _FAULT if verdict[1] else verdict[0]
    errors = {}
    value = checker._verdict(name, value, check, errors)
    return _FAULT if errors else value


cdef object _FAULT = object()


cdef object _shares(object checker, dict verdicts, object value):
    """A grade distribution's validated shares, or _FAULT."""
    cdef PyObject* grade
    cdef PyObject* percent
    cdef list out = []
    if type(value) is not list or not value:
        return _FAULT
    for share in value:
        if type(share) is not dict or PyDict_Size(share) != 2:
            return _FAULT
        grade = PyDict_GetItem(share, "grade")
        percent = PyDict_GetItem(share, "percent")
        if grade is NULL or percent is NULL:
            return _FAULT
        if type(<object>grade) is not str or not _plain_text(<object>grade, 60):
            return _FAULT
        checked = _verdict(checker, verdicts, "percent", <object>percent, _percent)
        if checked is _FAULT:
            return _FAULT
        out.append({"grade": <object>grade, "percent": checked})
    return out


def load(checker, raw):
    """The validated record, as RecordChecker's checks give it; their ValidationError when the
    record breaks a rule."""
    cdef PyObject* found
    cdef object transcript, result, out, value, language, credits, system, last
    cdef Py_ssize_t length
    cdef bint required
    cdef dict verdicts
    if type(raw) is not dict or PyDict_Size(raw) != 2:
        return checker.check(raw)
    found = PyDict_GetItem(raw, "transcript")
    last = checker._last
    if found is NULL or <object>found is not last[0] or last[2] is not None or last[1] is None:
        return checker.check(raw)
    transcript = last[1]
    found = PyDict_GetItem(raw, "result")
    if found is NULL:
        return checker.check(raw)
    result = <object>found
    if type(result) is not dict or PyDict_Size(result) != len(_KEYS):
        return checker.check(raw)
    for key in _KEYS:
        if PyDict_GetItem(result, key) is NULL:
            return checker.check(raw)
    out = PyDict_Copy(result)
    for name, length, required in _TEXTS:
        value = out[name]
        if value is None:
            if required:
                return checker.check(raw)
        elif type(value) is not str or not _plain_text(value, length):
            return checker.check(raw)
    language = out["language"]
    if language is not None:
        if type(language) is not str:
            return checker.check(raw)
        found = PyDict_GetItem(checker._languages, language)
        if found is NULL:
            if checker._language(language) is not None:
                return checker.check(raw)
        elif <object>found is not None:
            return checker.check(raw)
    verdicts = checker._verdicts
    credits = out["credits"]
    system = out["credit_system"]
    if credits is not None:
        credits = _verdict(checker, verdicts, "credits", credits, _credits)
        if credits is _FAULT or system is None:
            return checker.check(raw)
        out["credits"] = credits
    elif system is not None:
        return checker.check(raw)
    value = out["grade_distribution"]
    if value is not None:
        value = _shares(checker, verdicts, value)
        if value is _FAULT:
            return checker.check(raw)
        out["grade_distribution"] = value
    value = out["eqf_level"]
    if value is not None and (type(value) is not int or not 1 <= value <= 8):
        return checker.check(raw)
    for name, check in _pattern_checks:
        value = out[name]
        if value is not None and _verdict(checker, verdicts, name, value, check) is _FAULT:
            return checker.check(raw)
    if out["status"] not in _STATUSES:
        return checker.check(raw)
    for name in ("started_on", "ended_on"):
        value = out[name]
        if value is not None:
            value = _verdict(checker, verdicts, name, value, _date)
            if value is _FAULT:
                return checker.check(raw)
            out[name] = value
    return {"transcript": transcript, "result": out}
