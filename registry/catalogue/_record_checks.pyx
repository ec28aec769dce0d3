# cython: language_level=3, boundscheck=False, wraparound=False
"""`RecordChecker.load` for the records that pass, compiled: an import checks each of a million
records, and in Python the rules cost about as much as parsing the record did.

Only the common case is decided here: a record of the exact shape (or packed, given back
packed) whose transcript was just checked (readers share one transcript dict between a document's records) and whose result
breaks no rule. Values that need a real check the first time they are seen (dates, credits,
codes, languages, grade tables) are checked by the Python checker's own functions and their
verdicts remembered there, as they are without this module. Anything else, and every record
with a fault, goes to the Python checks (`RecordChecker.check`), which give the errors; so this
module decides nothing the Python rules would decide otherwise, and words no message.
Built by setup.py when a C compiler is at hand; without it, `RecordChecker` checks in Python.
"""

from cpython.dict cimport PyDict_Copy, PyDict_GetItemWithError, PyDict_SetItem, PyDict_Size
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_GET_LENGTH, PyUnicode_READ, PyUnicode_KIND, PyUnicode_DATA

# The result's fields, each read once into an array at its index here; a packed record holds
# them in this order after its transcript.
FIELDS = (
    "local_id", "parent_local_id", "kind", "code", "title", "language", "credits",
    "credit_system", "grade", "grading_scheme", "grade_distribution", "eqf_level", "level",
    "isced_f", "status", "started_on", "ended_on",
)
cdef enum:
    LANGUAGE = 5
    CREDITS = 6
    CREDIT_SYSTEM = 7
    GRADE_DISTRIBUTION = 10
    EQF_LEVEL = 11
    STATUS = 14
    STARTED_ON = 15
    ENDED_ON = 16
    COUNT = 17

cdef tuple _fields = FIELDS
cdef int _texts = 0
cdef int _text_index[COUNT]
cdef Py_ssize_t _text_length[COUNT]
cdef bint _text_required[COUNT]
cdef tuple _patterns = ()
cdef tuple _statuses = ()
cdef object _credits, _date, _percent


def configure(texts, keys, statuses, credits, date, percent, patterns):
    """The rules, from registry.catalogue.transcripts (kept there, once): the text fields as
    (name, length, required), the result's keys in a packed record's order, the statuses, and
    the checks whose verdicts are remembered."""
    global _texts, _patterns, _statuses, _credits, _date, _percent
    if tuple(keys) != FIELDS:
        raise ValueError(f"the result's fields are {tuple(keys)}, not {FIELDS}")
    texts = tuple(texts)
    for index, (name, length, required) in enumerate(texts):
        _text_index[index] = FIELDS.index(name)
        _text_length[index] = length
        _text_required[index] = required
    _texts = len(texts)
    _patterns = tuple((FIELDS.index(name), name, check) for name, check in patterns)
    _statuses = tuple(statuses)
    _credits, _date, _percent = credits, date, percent


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


cdef object _FAULT = object()


cdef object _verdict(object checker, dict verdicts, str name, object value, object check):
    """The remembered verdict's value, or the checker's own verdict the first time; _FAULT when
    the value breaks its rule."""
    cdef PyObject* found
    cdef object errors
    if type(value) is str:
        found = PyDict_GetItemWithError(verdicts, name)
        if found is not NULL:
            found = PyDict_GetItemWithError(<dict>found, value)
            if found is not NULL:
                verdict = <tuple>found
                return _FAULT if verdict[1] else verdict[0]
    errors = {}
    value = checker._verdict(name, value, check, errors)
    return _FAULT if errors else value


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
        grade = PyDict_GetItemWithError(share, "grade")
        percent = PyDict_GetItemWithError(share, "percent")
        if grade is NULL or percent is NULL:
            return _FAULT
        if type(<object>grade) is not str or not _plain_text(<object>grade, 60):
            return _FAULT
        checked = _verdict(checker, verdicts, "percent", <object>percent, _percent)
        if checked is _FAULT:
            return _FAULT
        out.append({"grade": <object>grade, "percent": checked})
    return out


cdef inline void _put(tuple out, Py_ssize_t index, object value):
    Py_INCREF(value)  # PyTuple_SET_ITEM takes the reference
    PyTuple_SET_ITEM(out, index, value)


def load(checker, raw):
    """The validated record, as RecordChecker's checks give it (packed when `raw` is packed,
    registry.catalogue.transcripts.pack); their ValidationError when it breaks a rule."""
    cdef PyObject* found
    cdef PyObject* values[COUNT]
    cdef object transcript, value, last, previous, result = None
    cdef object credits, system, shares, started, ended
    cdef tuple out
    cdef dict loaded, verdicts
    cdef bint packed = type(raw) is tuple
    cdef int i
    # The transcript is the one checked last, which passed.
    last = checker._last
    if last[2] is not None or last[1] is None:
        return checker.check(raw)
    previous = last[0]
    if packed:
        if PyTuple_GET_SIZE(raw) != COUNT + 1 or PyTuple_GET_ITEM(raw, 0) is not <PyObject*>previous:
            return checker.check(raw)
        for i in range(COUNT):
            values[i] = PyTuple_GET_ITEM(raw, i + 1)
    else:
        if type(raw) is not dict or PyDict_Size(raw) != 2:
            return checker.check(raw)
        found = PyDict_GetItemWithError(raw, "transcript")
        if found is NULL or found is not <PyObject*>previous:
            return checker.check(raw)
        found = PyDict_GetItemWithError(raw, "result")
        if found is NULL or type(<object>found) is not dict or PyDict_Size(<object>found) != COUNT:
            return checker.check(raw)
        result = <object>found
        for i in range(COUNT):
            values[i] = PyDict_GetItemWithError(result, <object>PyTuple_GET_ITEM(_fields, i))
            if values[i] is NULL:
                return checker.check(raw)
    transcript = last[1]
    for i in range(_texts):
        value = <object>values[_text_index[i]]
        if value is None:
            if _text_required[i]:
                return checker.check(raw)
        elif type(value) is not str or not _plain_text(value, _text_length[i]):
            return checker.check(raw)
    value = <object>values[LANGUAGE]
    if value is not None:
        if type(value) is not str:
            return checker.check(raw)
        found = PyDict_GetItemWithError(checker._languages, value)
        if found is NULL:
            if checker._language(value) is not None:
                return checker.check(raw)
        elif <object>found is not None:
            return checker.check(raw)
    verdicts = checker._verdicts
    credits = <object>values[CREDITS]
    system = <object>values[CREDIT_SYSTEM]
    if credits is not None:
        credits = _verdict(checker, verdicts, "credits", credits, _credits)
        if credits is _FAULT or system is None:
            return checker.check(raw)
    elif system is not None:
        return checker.check(raw)
    shares = <object>values[GRADE_DISTRIBUTION]
    if shares is not None:
        shares = _shares(checker, verdicts, shares)
        if shares is _FAULT:
            return checker.check(raw)
    value = <object>values[EQF_LEVEL]
    if value is not None and (type(value) is not int or not 1 <= value <= 8):
        return checker.check(raw)
    for i, name, check in _patterns:
        value = <object>values[i]
        if value is not None and _verdict(checker, verdicts, name, value, check) is _FAULT:
            return checker.check(raw)
    if <object>values[STATUS] not in _statuses:
        return checker.check(raw)
    started = <object>values[STARTED_ON]
    if started is not None:
        started = _verdict(checker, verdicts, "started_on", started, _date)
        if started is _FAULT:
            return checker.check(raw)
    ended = <object>values[ENDED_ON]
    if ended is not None:
        ended = _verdict(checker, verdicts, "ended_on", ended, _date)
        if ended is _FAULT:
            return checker.check(raw)
    # The validated values, each held by a local above until the return.
    values[CREDITS] = <PyObject*>credits
    values[GRADE_DISTRIBUTION] = <PyObject*>shares
    values[STARTED_ON] = <PyObject*>started
    values[ENDED_ON] = <PyObject*>ended
    if packed:
        out = PyTuple_New(COUNT + 1)
        _put(out, 0, transcript)
        for i in range(COUNT):
            _put(out, i + 1, <object>values[i])
        return out
    loaded = PyDict_Copy(result)
    PyDict_SetItem(loaded, "credits", credits)
    PyDict_SetItem(loaded, "grade_distribution", shares)
    PyDict_SetItem(loaded, "started_on", started)
    PyDict_SetItem(loaded, "ended_on", ended)
    return {"transcript": transcript, "result": loaded}
