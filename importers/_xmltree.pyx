# cython: language_level=3
"""Questions about a subtree that XPath answers by building and sorting node sets, compiled:
the depth check of `importers.xmlsafe` (whether an element or one of the elements before it
holds elements some number of levels down: `(. | preceding-sibling::*)/*/*…`), and the count
of an element's descendants of one name (`count(.//ns:name)`), which cost an ELMO import more
than reading a record's fields did. These follow libxml2's node pointers instead.

Like importers/_elmo_walk.pyx, only struct fields are read, no libxml2 function is called (lxml
links its own libxml2); built by setup.py when a C compiler is at hand, and used only with the
lxml it was built against.
"""

cimport lxml.includes.etreepublic as cetree
from libc.string cimport strcmp

cetree.import_lxml__etree()

cdef extern from "libxml/tree.h":
    ctypedef enum xmlElementType:
        ELEMENT "XML_ELEMENT_NODE"

    ctypedef unsigned char xmlChar

    ctypedef struct xmlNs:
        const xmlChar* href

    ctypedef struct xmlNode:
        xmlElementType type
        const xmlChar* name
        xmlNs* ns
        xmlNode* children
        xmlNode* parent
        xmlNode* next
        xmlNode* prev

cdef extern from "lxml-version.h":
    const char* LXML_VERSION_STRING

LXML_VERSION = LXML_VERSION_STRING.decode()


cdef inline xmlNode* _element(xmlNode* node):
    """`node` or the first element after it among its siblings."""
    while node is not NULL and node.type != ELEMENT:
        node = node.next
    return node


cdef xmlNode* _following(xmlNode* node, xmlNode* top, int* depth):
    """The element after `node` in document order within `top`'s subtree, `depth` levels below
    `top` (kept up to date); NULL after the last."""
    cdef xmlNode* child = _element(node.children)
    if child is not NULL:
        depth[0] += 1
        return child
    while node != top:
        child = _element(node.next)
        if child is not NULL:
            return child
        node = node.parent
        depth[0] -= 1
    return NULL


cdef bint _below(xmlNode* top, int levels):
    """Whether an element lies `levels` (1 or more) levels below `top`."""
    cdef xmlNode* node = top
    cdef int depth = 0
    while True:
        node = _following(node, top, &depth)
        if node is NULL:
            return False
        if depth >= levels:
            return True


def reaches(element, int levels):
    """Whether `element` or an element before it among its siblings holds an element `levels`
    levels down (itself when `levels` is 0 or less)."""
    cdef xmlNode* node = <xmlNode*>(<cetree._Element>element)._c_node
    if levels <= 0:
        return True
    while node is not NULL:
        if node.type == ELEMENT and _below(node, levels):
            return True
        node = node.prev
    return False


def descendants(element, bytes namespace, bytes name):
    """How many elements named `name` in `namespace` lie below `element`, at any depth."""
    cdef xmlNode* top = <xmlNode*>(<cetree._Element>element)._c_node
    cdef xmlNode* node = top
    cdef int depth = 0
    cdef long found = 0
    while True:
        node = _following(node, top, &depth)
        if node is NULL:
            return found
        if (
            node.ns is not NULL
            and strcmp(<const char*>node.name, name) == 0
            and strcmp(<const char*>node.ns.href, namespace) == 0
        ):
            found += 1
