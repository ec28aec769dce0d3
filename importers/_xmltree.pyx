# cython: language_level=3
"""The depth check of `importers.xmlsafe`, compiled: whether an element or one of the elements
before it holds elements some number of levels down. The XPath it stands in for
(`(. | preceding-sibling::*)/*/*…`) builds and sorts a node set at every level, which cost an
ELMO import more than reading a record's fields did; this follows libxml2's node pointers.

Like importers/_elmo_walk.pyx, only struct fields are read, no libxml2 function is called (lxml
links its own libxml2); built by setup.py when a C compiler is at hand, and used only with the
lxml it was built against.
"""

cimport lxml.includes.etreepublic as cetree

cetree.import_lxml__etree()

cdef extern from "libxml/tree.h":
    ctypedef enum xmlElementType:
        ELEMENT "XML_ELEMENT_NODE"

    ctypedef struct xmlNode:
        xmlElementType type
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


cdef bint _below(xmlNode* top, int levels):
    """Whether an element lies `levels` (1 or more) levels below `top`."""
    cdef xmlNode* node = top
    cdef xmlNode* child
    cdef int depth = 0
    while True:
        child = _element(node.children)
        if child is not NULL:
            depth += 1
            if depth == levels:
                return True
            node = child
            continue
        while True:  # no element inside: the next element of this level, else of the one above
            if node == top:
                return False
            child = _element(node.next)
            if child is not NULL:
                node = child
                break
            node = node.parent
            depth -= 1


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
