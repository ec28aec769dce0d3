# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The opportunity walk of `importers.elmo` (`_Walk.opportunity` and `_instance`), compiled, over
libxml2's nodes instead of lxml's Python proxies: touching a record's ~16 elements through
proxies cost more than the whole parse. Same records, positions and order as the Python walk
(tests compare the two); what is rare or subtle (a title holding markup, an attribute value that
is not one text node, text to be folded outside ASCII, grade percentages, national levels) is
handed to the Python functions of `importers.elmo`, through a proxy where they need one.

Only struct fields are read here, no libxml2 function is called: lxml links its own libxml2,
whose symbols are not ours to call. Built by setup.py when a C compiler is at hand; without it,
`importers.elmo` walks in Python.
"""

cimport lxml.includes.etreepublic as cetree
from cpython.unicode cimport (
    PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8, PyUnicode_GET_LENGTH, PyUnicode_READ_CHAR,
)
from libc.stdio cimport snprintf
from libc.string cimport strcmp, strlen

cetree.import_lxml__etree()

cdef extern from "libxml/tree.h":
    ctypedef unsigned char xmlChar

    ctypedef enum xmlElementType:
        ELEMENT "XML_ELEMENT_NODE"
        TEXT "XML_TEXT_NODE"
        CDATA "XML_CDATA_SECTION_NODE"
        ENTITY_REF "XML_ENTITY_REF_NODE"
        PI "XML_PI_NODE"
        COMMENT "XML_COMMENT_NODE"
        XINCLUDE_START "XML_XINCLUDE_START"
        XINCLUDE_END "XML_XINCLUDE_END"

    ctypedef struct xmlNs:
        const xmlChar* href

    ctypedef struct xmlNode
    ctypedef struct xmlAttr:
        xmlElementType type
        const xmlChar* name
        xmlNode* children
        xmlAttr* next
        xmlNs* ns

    ctypedef struct xmlNode:
        xmlElementType type
        const xmlChar* name
        xmlNode* children
        xmlNode* parent
        xmlNode* next
        xmlNode* prev
        xmlChar* content
        xmlAttr* properties
        xmlNs* ns
        unsigned short line
        void* psvi

cdef extern from "lxml-version.h":
    const char* LXML_VERSION_STRING

# The lxml this module was compiled against: `importers.elmo` uses it only with that version.
LXML_VERSION = LXML_VERSION_STRING.decode()

cdef const char* ELMO = b"https://github.com/emrex-eu/elmo-schemas/tree/v1"
cdef const char* XML_NS = b"http://www.w3.org/XML/1998/namespace"

# importers.elmo, its functions and tables, and the record's unpacking, bound on first use (it
# imports this module).
cdef object _py = None
cdef dict _statuses = None
cdef str _los_name = None
cdef object _unpack = None


cdef void _bind():
    global _py, _statuses, _los_name, _unpack
    from importers import elmo
    from registry.catalogue.transcripts import unpack
    _py, _statuses, _los_name, _unpack = elmo, elmo.STATUSES, elmo.LOS_NAME, unpack


cdef inline bint _is_element_like(xmlNode* node) noexcept nogil:
    """What lxml iterates as an element's children (elements, comments, PIs, entity refs)."""
    return node.type == ELEMENT or node.type == COMMENT or node.type == PI or \
        node.type == ENTITY_REF


cdef inline bint _is(xmlNode* node, const char* name) noexcept nogil:
    """node.tag == "{ELMO}" + name."""
    return node.type == ELEMENT and node.ns is not NULL and node.ns.href is not NULL and \
        strcmp(<const char*>node.name, name) == 0 and strcmp(<const char*>node.ns.href, ELMO) == 0


cdef inline xmlNode* _text_node(xmlNode* node) noexcept nogil:
    """lxml's _textNodeOrSkip: the text or CDATA node here, skipping XInclude markers."""
    while node is not NULL:
        if node.type == TEXT or node.type == CDATA:
            return node
        if node.type != XINCLUDE_START and node.type != XINCLUDE_END:
            return NULL
        node = node.next
    return NULL


cdef inline str _decoded(const xmlChar* text):
    return PyUnicode_DecodeUTF8(<const char*>text, strlen(<const char*>text), NULL)


cdef object _element_text(xmlNode* element):
    """element.text as lxml gives it (the text nodes before the first child), or None."""
    cdef xmlNode* node = _text_node(element.children)
    if node is NULL:
        return None
    if _text_node(node.next) is NULL:
        return _decoded(node.content)
    parts = []
    while node is not NULL:
        parts.append(_decoded(node.content))
        node = _text_node(node.next)
    return "".join(parts)


cdef inline bint _folded(const xmlChar* text, Py_ssize_t* length) noexcept nogil:
    """Whether `text` is ASCII with no whitespace to collapse (what xs:token leaves alone);
    its length in `length`."""
    cdef Py_ssize_t i = 0
    cdef xmlChar c, before = 32
    while True:
        c = text[i]
        if c == 0:
            length[0] = i
            return before != 32
        if c == 32:
            if before == 32:
                return False
        elif c < 33 or c > 126:
            return False
        before = c
        i += 1


cdef object _token(xmlNode* element):
    """elmo._token(element.text)."""
    cdef xmlNode* node = _text_node(element.children)
    cdef Py_ssize_t length
    if node is NULL:
        return None
    if _text_node(node.next) is NULL:
        if node.content[0] == 0:
            return None
        if _folded(node.content, &length):
            return PyUnicode_DecodeUTF8(<const char*>node.content, length, NULL)
    return _py._token(_element_text(element))


cdef object _date(xmlNode* element):
    """elmo._date(element.text)."""
    cdef xmlNode* node = _text_node(element.children)
    cdef Py_ssize_t length
    cdef const xmlChar* text
    if node is not NULL and _text_node(node.next) is NULL and node.content[0] != 0 and \
            _folded(node.content, &length):
        text = node.content
        if length > 10 and text[4] == 45 and text[7] == 45:  # "-"
            length = 10
        return PyUnicode_DecodeUTF8(<const char*>text, length, NULL)
    return _py._date(_element_text(element))


cdef xmlAttr* _find(xmlNode* element, const char* name, const char* namespace) noexcept:
    cdef xmlAttr* attribute = element.properties
    while attribute is not NULL:
        if strcmp(<const char*>attribute.name, name) == 0 and (
            (attribute.ns is NULL and namespace is NULL)
            or (attribute.ns is not NULL and namespace is not NULL
                and strcmp(<const char*>attribute.ns.href, namespace) == 0)
        ):
            return attribute
        attribute = attribute.next
    return NULL


cdef object _attribute(
    cetree._Document doc, xmlNode* element, const char* name, const char* namespace
):
    """element.get(name), or element.get("{namespace}name")."""
    cdef xmlAttr* attribute = _find(element, name, namespace)
    if attribute is NULL:
        return None
    if attribute.children is NULL:
        return ""
    if attribute.children.next is NULL and attribute.children.type == TEXT:
        return _decoded(attribute.children.content)
    key = name.decode() if namespace is NULL else f"{{{namespace.decode()}}}{name.decode()}"
    return _proxy(doc, element).get(key)


cdef object _attribute_token(cetree._Document doc, xmlNode* element, const char* name):
    """elmo._token(element.get(name))."""
    cdef xmlAttr* attribute = _find(element, name, NULL)
    cdef Py_ssize_t length
    if attribute is not NULL and attribute.children is not NULL and \
            attribute.children.next is NULL and attribute.children.type == TEXT and \
            attribute.children.content[0] != 0 and _folded(attribute.children.content, &length):
        return PyUnicode_DecodeUTF8(<const char*>attribute.children.content, length, NULL)
    return _py._token(_attribute(doc, element, name, NULL))


cdef inline object _proxy(cetree._Document doc, xmlNode* node):
    """The lxml element of a node, for a Python function of importers.elmo."""
    return cetree.elementFactory(doc, <cetree.tree.xmlNode*>node)


cdef long _line(xmlNode* node, int depth) noexcept nogil:
    """libxml2's xmlGetLineNo (lxml's sourceline): a line past 65,535 is kept on a text node."""
    cdef long result = -1
    if depth >= 5 or node is NULL:
        return -1
    if node.type == ELEMENT or node.type == TEXT or node.type == COMMENT or node.type == PI:
        if node.line == 65535:
            if node.type == TEXT and node.psvi is not NULL:
                result = <long><Py_ssize_t>node.psvi
            elif node.type == ELEMENT and node.children is not NULL:
                result = _line(node.children, depth + 1)
            elif node.next is not NULL:
                result = _line(node.next, depth + 1)
            elif node.prev is not NULL:
                result = _line(node.prev, depth + 1)
        if result == -1 or result == 65535:
            result = node.line
    elif node.prev is not NULL and (
        node.prev.type == ELEMENT or node.prev.type == TEXT or node.prev.type == COMMENT
        or node.prev.type == PI
    ):
        result = _line(node.prev, depth + 1)
    elif node.parent is not NULL and node.parent.type == ELEMENT:
        result = _line(node.parent, depth + 1)
    return result


cdef class _Report:
    """What the walk of one report shares: its document (for the proxies the Python functions
    need), transcript, issuer, grading schemes, and the list the records go to. Passed down,
    not kept in globals: two imports may walk at once in threads of one process."""

    cdef cetree._Document doc
    cdef dict transcript
    cdef object issuer
    cdef dict schemes
    cdef list items
    cdef bint packed


def walk(
    report, list opportunities, dict transcript, dict schemes, str path, list items,
    bint packed=False,
):
    """Appends the records of `opportunities` (the report's top-level ones, as proxies) to
    `items` as `elmo._Walk` does, packed when asked; returns how many opportunities it walked,
    parts included."""
    if _py is None:
        _bind()
    cdef _Report context = _Report.__new__(_Report)
    context.doc = (<cetree._Element>report)._doc
    context.transcript = transcript
    context.issuer = transcript["issuer"]
    context.schemes = schemes
    context.items = items
    context.packed = packed
    cdef int seen = 0
    cdef int index = 0
    for opportunity in opportunities:
        index += 1
        seen += _opportunity(
            context, (<cetree._Element>opportunity)._c_node, None, str(index),
            f"{path}[{index}]",
        )
    return seen


cdef int _opportunity(
    _Report context, xmlNode* element, parent_id, str ordinal, str path
) except -1:
    cdef int seen = 1
    cdef bint identifying = True
    cdef xmlNode* child = element.children
    cdef xmlNode* part
    cdef xmlNode* found
    titles = []
    kind = isced = first = local = None
    instances = []
    parts = []
    while child is not NULL:
        if not _is_element_like(child):
            child = child.next
            continue
        if _is(child, b"identifier"):
            if identifying and local is None:
                value = _token(child)
                if value:
                    scheme = _attribute_token(context.doc, child, b"type")
                    if scheme == "local":
                        local = value
                    elif first is None:
                        first = f"{scheme}:{value}"
            child = child.next
            continue
        identifying = False
        if _is(child, b"title"):
            titles.append(
                (_attribute(context.doc, child, b"lang", XML_NS), _title(context.doc, child))
            )
        elif _is(child, b"type"):
            kind = _token(child)
        elif _is(child, b"iscedCode"):
            isced = _token(child)
        elif _is(child, b"specifies"):
            found = NULL
            part = child.children
            while part is not NULL:
                if _is(part, b"learningOpportunityInstance"):
                    found = part
                    break
                part = part.next
            instances.append(None if found is NULL else _Node.of(found))
        elif _is(child, b"hasPart"):
            parts.append(_Node.of(child))
        child = child.next
    local_id = local or first or f"#{ordinal}"
    cdef int number = 0
    cdef _Node holder
    for holder in parts:
        child = holder.node.children
        while child is not NULL:
            if _is(child, b"learningOpportunitySpecification"):
                number += 1
                seen += _opportunity(
                    context, child, local_id, f"{ordinal}.{number}",
                    f"{path}/hasPart[{number}]/{_los_name}",
                )
            child = child.next
    cdef long line = _line(element, 0)
    position = f"line {line if line > 0 else None} ({path})"
    if len(instances) != 1 or instances[0] is None:
        context.items.append((position, _py._unreadable(instances)))
        return seen
    title, language = _py._preferred(titles) or (None, None)
    cdef tuple values = _instance(context, (<_Node>instances[0]).node)
    record = (  # packed: registry.catalogue.transcripts.pack's order
        context.transcript, local_id, parent_id, kind, local, title, language, values[0],
        values[1], values[2], values[3], values[4], values[5], values[6], isced, values[7],
        values[8], values[9],
    )
    if not context.packed:
        record = _unpack(record)
    context.items.append((position, record))
    return seen


cdef class _Node:
    """A node pointer held in a Python list for a moment (while its siblings are read)."""

    cdef xmlNode* node

    @staticmethod
    cdef _Node of(xmlNode* node):
        cdef _Node holder = _Node.__new__(_Node)
        holder.node = node
        return holder


cdef object _title(cetree._Document doc, xmlNode* element):
    """elmo._text: the text, or all the text within when the title holds markup."""
    cdef xmlNode* child = element.children
    while child is not NULL:
        if _is_element_like(child):
            return _py._text(_proxy(doc, element))
        child = child.next
    return _token(element)


cdef tuple _instance(_Report context, xmlNode* instance):
    """The instance's fields in a packed record's order: credits, credit_system, grade,
    grading_scheme, grade_distribution, eqf_level, level, status, started_on, ended_on."""
    start = end = status = local_scheme = external_scheme = grade = distribution = None
    term_start = term_end = credit = None
    levels = []
    cdef xmlNode* child = instance.children
    cdef xmlNode* part
    while child is not NULL:
        if _is(child, b"date"):
            end = _date(child)
        elif _is(child, b"status"):
            status = _token(child)
        elif _is(child, b"resultLabel"):
            grade = _token(child)
        elif _is(child, b"credit"):
            scheme, value, _ = _tokens(child, b"scheme", b"value", b"")
            if scheme and value is not None:
                scheme = scheme.upper()
                # The ECTS credit when there is one, else the first.
                if credit is None or (scheme == "ECTS" and credit[0] != "ECTS"):
                    credit = (scheme, value)
        elif _is(child, b"gradingSchemeLocalId"):
            local_scheme = _token(child)
        elif _is(child, b"start"):
            start = _date(child)
        elif _is(child, b"level"):
            level_kind, value, description = _tokens(child, b"type", b"value", b"description")
            if level_kind:
                levels.append((level_kind, value, description))
        elif _is(child, b"academicTerm"):
            part = child.children
            while part is not NULL:
                if _is(part, b"start"):
                    term_start = _date(part)
                elif _is(part, b"end"):
                    term_end = _date(part)
                part = part.next
        elif _is(child, b"resultDistribution"):
            distribution = _distribution(context.doc, child)
        elif _is(child, b"gradingSchemeExternalId"):
            external_scheme = _token(child)
        child = child.next
    eqf, level = _py._levels(levels, context.issuer) if levels else (None, None)
    scheme = local_scheme or external_scheme
    return (
        credit[1] if credit else None,
        credit[0] if credit else None,
        grade,
        context.schemes.get(scheme, scheme) if scheme is not None else None,
        distribution,
        eqf,
        level,
        _statuses.get(status, status) if status is not None else "passed",
        start or term_start,
        end or term_end,
    )


cdef tuple _tokens(xmlNode* element, const char* first, const char* second, const char* third):
    """The tokens of the children so named (the last of each name; None for none; b"" names
    none)."""
    cdef xmlNode* part = element.children
    found = [None, None, None]
    while part is not NULL:
        if _is(part, first):
            found[0] = _token(part)
        elif _is(part, second):
            found[1] = _token(part)
        elif _is(part, third):
            found[2] = _token(part)
        part = part.next
    return tuple(found)


cdef object _distribution(cetree._Document doc, xmlNode* element):
    """elmo._distribution, without a proxy for each category; when every count is written in
    plain ASCII digits, elmo._shares and _percent in C (the same arithmetic on whole numbers)."""
    cdef xmlNode* child = element.children
    cdef long long total = 0, count
    labels, texts = [], []
    while child is not NULL:
        if _is(child, b"category"):
            labels.append(_attribute_token(doc, child, b"label"))
            texts.append(_attribute(doc, child, b"count", NULL))
        child = child.next
    if not labels:
        return None
    counts = []
    for text in texts:
        count = _digits(text)
        if count < 0:
            return _py._shares(labels, [_py._count(text) for text in texts])
        counts.append(count)
        total += count
    return [
        {"grade": label, "percent": _percent(count, total) if total else "0"}
        for label, count in zip(labels, counts)
    ]


cdef long long _digits(object text):
    """The number a text of 1 to 9 ASCII digits writes; -1 for any other (elmo._count's)."""
    cdef Py_ssize_t size, i
    cdef long long value = 0
    cdef unsigned int c
    if type(text) is not str:
        return -1
    size = PyUnicode_GET_LENGTH(text)
    if size < 1 or size > 9:
        return -1
    for i in range(size):
        c = PyUnicode_READ_CHAR(text, i)
        if c < 48 or c > 57:
            return -1
        value = value * 10 + (c - 48)
    return value


cdef str _percent(long long count, long long total):
    """elmo._percent: count / total in percent, rounded half to even at two decimals, trailing
    zeros dropped."""
    cdef long long hundredths = count * 10000 // total, rest = count * 10000 % total
    cdef long long whole, cents
    cdef char text[48]
    cdef int size
    if 2 * rest > total or (2 * rest == total and hundredths & 1):
        hundredths += 1
    whole, cents = hundredths // 100, hundredths % 100
    if cents == 0:
        size = snprintf(text, sizeof(text), "%lld", whole)
    elif cents % 10 == 0:
        size = snprintf(text, sizeof(text), "%lld.%lld", whole, cents // 10)
    else:
        size = snprintf(text, sizeof(text), "%lld.%02lld", whole, cents)
    return PyUnicode_DecodeASCII(text, size, NULL)
