"""Subword splitter, candidate counter and greedy encoder behind ``fastembed.text.SubwordEncoder``.

Text is cut into pieces as TFDS' ``SubwordTextEncoder`` does (runs of letters and digits,
runs of underscores, runs of other characters; a word followed by a single space takes a
trailing ``_`` in place of it), reading the str's own buffer without the GIL.

Subword strings live as nodes of a trie: node = (parent node, code point), found through
one open-addressing table keyed by that pair. A greedy longest match is then a walk down
the trie, and building a vocabulary never makes a Python string per candidate:

* the candidates of every piece (its substrings of at most ``max_length`` characters) are
  trie nodes, enumerated once into a flat path array;
* each refinement round only adds counts along those paths and sweeps the nodes deepest
  first (a node's prefixes are its ancestors).

The Python twin is ``fastembed.text.subword`` itself (``_greedy_segment``, ``_Builder``);
tests check both give the same subwords and ids.
"""

from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset

from fastembed._kernels._text cimport _Texts

import numpy as np

cdef extern from "Python.h":
    # Declared as returning uint32_t: Cython would turn a Py_UCS4 in arithmetic into a str.
    uint32_t PyUnicode_READ(int kind, const void* data, Py_ssize_t index) nogil
    # Python's re treats \w as this or "_": the splitter must agree with the twin's regex.
    # It reads the static Unicode database only, so it is safe without the GIL.
    bint Py_UNICODE_ISALNUM(uint32_t ch) nogil

cdef enum:
    CLASS_ALNUM = 0
    CLASS_UNDERSCORE = 1
    CLASS_OTHER = 2
    PIECE_TEXT = 0       # matched against the subwords
    PIECE_BYTES = 1      # underscores: always written as bytes
    MARKER = 95          # "_": the word is followed by one space
    SPACE = 32

cdef uint64_t EMPTY_KEY = 0xFFFFFFFFFFFFFFFFULL


cdef inline int char_class(uint32_t c) noexcept nogil:
    if c == 95:
        return CLASS_UNDERSCORE
    if c < 128:
        if (c >= 48 and c <= 57) or ((c | 32) >= 97 and (c | 32) <= 122):
            return CLASS_ALNUM
        return CLASS_OTHER
    return CLASS_ALNUM if Py_UNICODE_ISALNUM(c) else CLASS_OTHER


cdef Py_ssize_t split_pieces(const void* data, int kind, Py_ssize_t n,
                             uint32_t* chars, Py_ssize_t* ends, uint8_t* kinds) noexcept nogil:
    """Cut one text into pieces, their characters back to back in ``chars`` (room for
    ``n``: a marker always replaces a space) and piece k ending at ``ends[k]``."""
    cdef Py_ssize_t i = 0, written = 0, n_pieces = 0
    cdef uint32_t c
    cdef int cls
    while i < n:
        c = PyUnicode_READ(kind, data, i)
        cls = char_class(c)
        while True:
            chars[written] = c
            written += 1
            i += 1
            if i >= n:
                break
            c = PyUnicode_READ(kind, data, i)
            if char_class(c) != cls:
                break
        if (cls == CLASS_ALNUM and i < n and c == SPACE
                and (i + 1 == n or char_class(PyUnicode_READ(kind, data, i + 1)) != CLASS_OTHER)):
            chars[written] = MARKER
            written += 1
            i += 1
        kinds[n_pieces] = PIECE_BYTES if cls == CLASS_UNDERSCORE else PIECE_TEXT
        ends[n_pieces] = written
        n_pieces += 1
    return n_pieces


cdef inline int utf8_bytes(uint32_t c, int32_t* out, int32_t base) noexcept nogil:
    """Write the UTF-8 bytes of ``c`` (surrogates as 'surrogatepass' does) as ``base + byte``."""
    if c < 0x80:
        out[0] = base + <int32_t> c
        return 1
    if c < 0x800:
        out[0] = base + <int32_t> (0xC0 | (c >> 6))
        out[1] = base + <int32_t> (0x80 | (c & 0x3F))
        return 2
    if c < 0x10000:
        out[0] = base + <int32_t> (0xE0 | (c >> 12))
        out[1] = base + <int32_t> (0x80 | ((c >> 6) & 0x3F))
        out[2] = base + <int32_t> (0x80 | (c & 0x3F))
        return 3
    out[0] = base + <int32_t> (0xF0 | (c >> 18))
    out[1] = base + <int32_t> (0x80 | ((c >> 12) & 0x3F))
    out[2] = base + <int32_t> (0x80 | ((c >> 6) & 0x3F))
    out[3] = base + <int32_t> (0x80 | (c & 0x3F))
    return 4


cdef class Trie:
    """Nodes 1.. are strings; node 0 is the empty string. ``value[node]`` is free for the
    caller (a subword id when encoding, 0 = not a subword)."""
    cdef uint64_t* keys
    cdef int32_t* children
    cdef Py_ssize_t table_capacity
    cdef int table_shift
    cdef int32_t* parent
    cdef uint32_t* last_char
    cdef int32_t* depth
    cdef int32_t* value
    cdef Py_ssize_t n_nodes, node_capacity

    def __cinit__(self):
        self.table_capacity = 1024
        self.table_shift = 64 - 10
        self.keys = <uint64_t*> malloc(self.table_capacity * sizeof(uint64_t))
        self.children = <int32_t*> malloc(self.table_capacity * sizeof(int32_t))
        self.node_capacity = 1024
        self.parent = <int32_t*> malloc(self.node_capacity * sizeof(int32_t))
        self.last_char = <uint32_t*> malloc(self.node_capacity * sizeof(uint32_t))
        self.depth = <int32_t*> malloc(self.node_capacity * sizeof(int32_t))
        self.value = <int32_t*> malloc(self.node_capacity * sizeof(int32_t))
        if (self.keys == NULL or self.children == NULL or self.parent == NULL or self.last_char == NULL
                or self.depth == NULL or self.value == NULL):
            raise MemoryError()
        memset(self.keys, 0xFF, self.table_capacity * sizeof(uint64_t))
        self.parent[0] = -1
        self.last_char[0] = 0
        self.depth[0] = 0
        self.value[0] = 0
        self.n_nodes = 1

    def __dealloc__(self):
        free(self.keys)
        free(self.children)
        free(self.parent)
        free(self.last_char)
        free(self.depth)
        free(self.value)

    def __len__(self):
        return self.n_nodes

    cdef inline Py_ssize_t slot_of(self, uint64_t key) noexcept nogil:
        # Fibonacci hashing: the top bits of key * 2^64/phi spread (parent, char) pairs.
        cdef Py_ssize_t mask = self.table_capacity - 1
        cdef Py_ssize_t k = <Py_ssize_t> ((key * 0x9E3779B97F4A7C15ULL) >> self.table_shift)
        while self.keys[k] != EMPTY_KEY and self.keys[k] != key:
            k = (k + 1) & mask
        return k

    cdef inline int32_t child(self, int32_t node, uint32_t c) noexcept nogil:
        """The node of string(node) + c, or -1 (read-only: safe from many threads)."""
        cdef uint64_t key = (<uint64_t> node << 32) | c
        cdef Py_ssize_t k = self.slot_of(key)
        return self.children[k] if self.keys[k] == key else -1

    cdef int grow_table(self) noexcept nogil:
        cdef Py_ssize_t old_capacity = self.table_capacity, k, j
        cdef uint64_t* old_keys = self.keys
        cdef int32_t* old_children = self.children
        cdef uint64_t* new_keys = <uint64_t*> malloc(2 * old_capacity * sizeof(uint64_t))
        cdef int32_t* new_children = <int32_t*> malloc(2 * old_capacity * sizeof(int32_t))
        if new_keys == NULL or new_children == NULL:
            free(new_keys)
            free(new_children)
            return -1
        memset(new_keys, 0xFF, 2 * old_capacity * sizeof(uint64_t))
        self.keys = new_keys
        self.children = new_children
        self.table_capacity = 2 * old_capacity
        self.table_shift -= 1
        for k in range(old_capacity):
            if old_keys[k] != EMPTY_KEY:
                j = self.slot_of(old_keys[k])
                self.keys[j] = old_keys[k]
                self.children[j] = old_children[k]
        free(old_keys)
        free(old_children)
        return 0

    cdef int grow_nodes(self) noexcept nogil:
        cdef Py_ssize_t capacity = 2 * self.node_capacity
        cdef void* p
        p = realloc(self.parent, capacity * sizeof(int32_t))
        if p == NULL:
            return -1
        self.parent = <int32_t*> p
        p = realloc(self.last_char, capacity * sizeof(uint32_t))
        if p == NULL:
            return -1
        self.last_char = <uint32_t*> p
        p = realloc(self.depth, capacity * sizeof(int32_t))
        if p == NULL:
            return -1
        self.depth = <int32_t*> p
        p = realloc(self.value, capacity * sizeof(int32_t))
        if p == NULL:
            return -1
        self.value = <int32_t*> p
        self.node_capacity = capacity
        return 0

    cdef int32_t add_child(self, int32_t node, uint32_t c) noexcept nogil:
        """The node of string(node) + c, made when new; -1 when out of memory or past 2^31 nodes."""
        cdef uint64_t key = (<uint64_t> node << 32) | c
        cdef Py_ssize_t k = self.slot_of(key)
        cdef int32_t new_node
        if self.keys[k] == key:
            return self.children[k]
        if self.n_nodes >= 0x7FFFFFFF:
            return -1
        if self.n_nodes == self.node_capacity and self.grow_nodes() != 0:
            return -1
        new_node = <int32_t> self.n_nodes
        self.n_nodes += 1
        self.parent[new_node] = node
        self.last_char[new_node] = c
        self.depth[new_node] = self.depth[node] + 1
        self.value[new_node] = 0
        self.keys[k] = key
        self.children[k] = new_node
        # Load factor under 1/2 keeps probe runs short.
        if 2 * (self.n_nodes - 1) > self.table_capacity and self.grow_table() != 0:
            return -1
        return new_node

    cdef int32_t add_string(self, const uint32_t* chars, Py_ssize_t length) noexcept nogil:
        cdef int32_t node = 0
        cdef Py_ssize_t k
        for k in range(length):
            node = self.add_child(node, chars[k])
            if node < 0:
                return -1
        return node

    def string(self, int32_t node):
        """The str a node stands for."""
        if node < 0 or node >= self.n_nodes:
            raise IndexError("node %d is outside the trie" % node)
        reversed_chars = []
        while node > 0:
            reversed_chars.append(chr(self.last_char[node]))
            node = self.parent[node]
        return "".join(reversed(reversed_chars))


cdef class Encoder:
    """Greedy longest-match encoder over a subword trie (ids 1.. for subwords, then bytes)."""
    cdef Trie trie
    cdef int32_t byte_base

    def __cinit__(self, subwords, int32_t first_id, int32_t byte_base):
        """``subwords[i]`` gets id ``first_id + i``; characters no subword covers are
        written as their UTF-8 bytes, byte b as ``byte_base + b``."""
        cdef Py_ssize_t i, k, length
        cdef uint32_t* buffer = NULL
        cdef int32_t node
        self.trie = Trie()
        self.byte_base = byte_base
        try:
            for i, subword in enumerate(subwords):
                if type(subword) is not str or not subword:
                    raise TypeError("subwords must be non-empty str")
                length = len(subword)
                free(buffer)
                buffer = <uint32_t*> malloc(length * sizeof(uint32_t))
                if buffer == NULL:
                    raise MemoryError()
                for k in range(length):
                    buffer[k] = ord(subword[k])
                node = self.trie.add_string(buffer, length)
                if node < 0:
                    raise MemoryError()
                self.trie.value[node] = first_id + <int32_t> i
        finally:
            free(buffer)

    cdef Py_ssize_t encode_one(self, const void* data, int kind, Py_ssize_t n, uint32_t* chars,
                               Py_ssize_t* ends, uint8_t* kinds, int32_t* out) noexcept nogil:
        """Ids of one text into ``out`` (room for 4 per character); returns their number."""
        cdef Py_ssize_t n_pieces = split_pieces(data, kind, n, chars, ends, kinds)
        cdef Py_ssize_t piece, position, start = 0, end, k, best_length, written = 0
        cdef int32_t node, best_id
        for piece in range(n_pieces):
            end = ends[piece]
            position = start
            if kinds[piece] == PIECE_BYTES:
                while position < end:
                    written += utf8_bytes(chars[position], &out[written], self.byte_base)
                    position += 1
            else:
                while position < end:
                    node = 0
                    best_length = 0
                    best_id = 0
                    k = position
                    while k < end:
                        node = self.trie.child(node, chars[k])
                        if node < 0:
                            break
                        k += 1
                        if self.trie.value[node] > 0:
                            best_length = k - position
                            best_id = self.trie.value[node]
                    if best_length > 0:
                        out[written] = best_id
                        written += 1
                        position += best_length
                    else:
                        written += utf8_bytes(chars[position], &out[written], self.byte_base)
                        position += 1
            start = end
        return written

    def encode_batch(self, tuple texts, int num_threads):
        """Encode every text; returns ``(values int32, offsets int64)`` (row t is
        ``values[offsets[t]:offsets[t + 1]]``).

        Texts go in blocks to threads; each block writes into its own buffer and the
        buffers are joined in order, so the result does not depend on the thread count.
        """
        cdef _Texts source = _Texts(texts)
        cdef Py_ssize_t block_size = 64
        cdef Py_ssize_t n_blocks = (source.n + block_size - 1) // block_size
        cdef Py_ssize_t stride = source.max_length + 1
        cdef Py_ssize_t b, t, first, last, used, capacity, need, j
        cdef int failed = 0
        cdef int32_t* buffer
        cdef int32_t* grown
        cdef uint32_t* chars
        cdef Py_ssize_t* ends
        cdef uint8_t* kinds
        lengths = np.zeros(source.n + 1, dtype=np.int64)
        cdef int64_t[::1] row_length = lengths
        cdef int32_t** block_ids = <int32_t**> malloc((n_blocks + 1) * sizeof(int32_t*))
        cdef Py_ssize_t* block_used = <Py_ssize_t*> malloc((n_blocks + 1) * sizeof(Py_ssize_t))
        if block_ids == NULL or block_used == NULL:
            free(block_ids)
            free(block_used)
            raise MemoryError()
        for b in range(n_blocks):
            block_ids[b] = NULL
            block_used[b] = 0
        try:
            with nogil:
                for b in prange(n_blocks, num_threads=num_threads, schedule="dynamic"):
                    # Scratch per block (not per thread): a block is 64 texts, so this is cheap,
                    # and every variable assigned here stays private to the iteration.
                    chars = <uint32_t*> malloc(stride * sizeof(uint32_t))
                    ends = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
                    kinds = <uint8_t*> malloc(stride * sizeof(uint8_t))
                    first = b * block_size
                    last = first + block_size if first + block_size < source.n else source.n
                    capacity = 0
                    for t in range(first, last):
                        capacity = capacity + 4 * source.length[t] + 1
                    # At most 4 ids per character (a character's UTF-8 bytes); rarely more than a
                    # quarter of that is used, so start smaller and grow.
                    capacity = capacity // 4 + 64
                    buffer = <int32_t*> malloc(capacity * sizeof(int32_t))
                    used = 0
                    if chars == NULL or ends == NULL or kinds == NULL or buffer == NULL:
                        failed += 1
                    else:
                        for t in range(first, last):
                            need = used + 4 * source.length[t]
                            if need > capacity:
                                capacity = 2 * need
                                grown = <int32_t*> realloc(buffer, capacity * sizeof(int32_t))
                                if grown == NULL:
                                    failed += 1
                                    break
                                buffer = grown
                            j = self.encode_one(source.data[t], source.kind[t], source.length[t],
                                                chars, ends, kinds, &buffer[used])
                            row_length[t + 1] = j
                            used = used + j
                    block_ids[b] = buffer
                    block_used[b] = used
                    free(chars)
                    free(ends)
                    free(kinds)
            if failed:
                raise MemoryError()
            offsets = np.cumsum(lengths)
            values = np.empty(int(offsets[source.n]), dtype=np.int32)
            out = values
            used = 0
            for b in range(n_blocks):
                if block_used[b]:
                    out[used:used + block_used[b]] = <int32_t[:block_used[b]]> block_ids[b]
                    used += block_used[b]
            return values, offsets
        finally:
            for b in range(n_blocks):
                free(block_ids[b])
            free(block_ids)
            free(block_used)


cdef class PieceCounter:
    """Counts of the corpus' text pieces (what a vocabulary is learned from)."""
    cdef Trie trie
    cdef int64_t* counts
    cdef Py_ssize_t counts_capacity
    cdef Py_ssize_t max_length

    def __cinit__(self):
        self.trie = Trie()
        self.counts_capacity = 0
        self.counts = NULL

    def __dealloc__(self):
        free(self.counts)

    cdef int ensure_counts(self) noexcept nogil:
        cdef Py_ssize_t capacity, k
        cdef int64_t* grown
        if self.trie.n_nodes <= self.counts_capacity:
            return 0
        capacity = 2 * self.trie.n_nodes
        grown = <int64_t*> realloc(self.counts, capacity * sizeof(int64_t))
        if grown == NULL:
            return -1
        for k in range(self.counts_capacity, capacity):
            grown[k] = 0
        self.counts = grown
        self.counts_capacity = capacity
        return 0

    def count(self, tuple texts):
        """Split ``texts`` and add each text piece to its count."""
        cdef _Texts source = _Texts(texts)
        cdef Py_ssize_t stride = source.max_length + 1
        cdef uint32_t* chars = <uint32_t*> malloc(stride * sizeof(uint32_t))
        cdef Py_ssize_t* ends = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
        cdef uint8_t* kinds = <uint8_t*> malloc(stride * sizeof(uint8_t))
        cdef Py_ssize_t t, piece, n_pieces, start
        cdef int32_t node
        cdef bint failed = False
        try:
            if chars == NULL or ends == NULL or kinds == NULL:
                raise MemoryError()
            with nogil:
                for t in range(source.n):
                    n_pieces = split_pieces(source.data[t], source.kind[t], source.length[t], chars, ends, kinds)
                    start = 0
                    for piece in range(n_pieces):
                        if kinds[piece] == PIECE_TEXT:
                            node = self.trie.add_string(&chars[start], ends[piece] - start)
                            if node < 0 or self.ensure_counts() != 0:
                                failed = True
                                break
                            self.counts[node] += 1
                        start = ends[piece]
                    if failed:
                        break
            if failed:
                raise MemoryError()
        finally:
            free(chars)
            free(ends)
            free(kinds)

    def pieces(self):
        """The counted pieces: ``(chars uint32, offsets int64, counts int64)``, piece i
        being ``chars[offsets[i]:offsets[i + 1]]``, in first-seen order."""
        cdef Py_ssize_t node, n = 0, total = 0, k, position, j
        cdef int32_t walk
        if self.ensure_counts() != 0:
            raise MemoryError()
        for node in range(1, self.trie.n_nodes):
            if self.counts[node] > 0:
                n += 1
                total += self.trie.depth[node]
        chars = np.empty(total, dtype=np.uint32)
        offsets = np.zeros(n + 1, dtype=np.int64)
        counts = np.empty(n, dtype=np.int64)
        cdef uint32_t[::1] chars_view = chars
        cdef int64_t[::1] offsets_view = offsets
        cdef int64_t[::1] counts_view = counts
        k = 0
        position = 0
        for node in range(1, self.trie.n_nodes):
            if self.counts[node] > 0:
                position += self.trie.depth[node]
                walk = <int32_t> node
                j = position
                while walk > 0:
                    j -= 1
                    chars_view[j] = self.trie.last_char[walk]
                    walk = self.trie.parent[walk]
                counts_view[k] = self.counts[node]
                k += 1
                offsets_view[k] = position
        return chars, offsets, counts


cdef class VocabularyBuilder:
    """TFDS' vocabulary refinement over counted pieces, without a string per candidate.

    Parameters
    ----------
    chars, offsets, counts
        The pieces, as :meth:`PieceCounter.pieces` returns them.
    max_length : int
        The longest subword, in characters.
    """
    cdef Trie trie
    cdef object chars_array, offsets_array, counts_array, paths_array, order_array, first_array
    cdef const uint32_t[::1] chars
    cdef const int64_t[::1] offsets
    cdef const int64_t[::1] piece_counts
    cdef int32_t[::1] paths          # piece p, start s: nodes of p[s:s+1], ..., p[s:s+m]
    cdef int64_t[::1] path_offsets   # where piece p's paths begin
    cdef int32_t[::1] by_depth       # nodes, deepest first
    cdef int64_t[::1] first_counts   # round 0: every position is a start
    cdef Py_ssize_t max_length

    def __cinit__(self, chars, offsets, counts, Py_ssize_t max_length):
        cdef Py_ssize_t p, s, n, m, k, total = 0, n_pieces, node_count, d
        cdef int32_t node
        cdef bint failed = False
        if max_length < 1:
            raise ValueError("max_length must be positive")
        self.max_length = max_length
        self.chars_array = np.ascontiguousarray(chars, dtype=np.uint32)
        self.offsets_array = np.ascontiguousarray(offsets, dtype=np.int64)
        self.counts_array = np.ascontiguousarray(counts, dtype=np.int64)
        self.chars = self.chars_array
        self.offsets = self.offsets_array
        self.piece_counts = self.counts_array
        n_pieces = self.piece_counts.shape[0]
        if (self.offsets.shape[0] != n_pieces + 1 or self.offsets[0] != 0
                or self.offsets[n_pieces] != self.chars.shape[0]):
            raise ValueError("offsets do not match chars and counts")
        path_offsets = np.zeros(n_pieces + 1, dtype=np.int64)
        self.path_offsets = path_offsets
        for p in range(n_pieces):
            n = self.offsets[p + 1] - self.offsets[p]
            if n < 0:
                raise ValueError("offsets must not decrease")
            for s in range(n):
                total += max_length if n - s > max_length else n - s
            self.path_offsets[p + 1] = total
        self.paths_array = np.empty(total, dtype=np.int32)
        self.paths = self.paths_array
        self.trie = Trie()
        with nogil:
            for p in range(n_pieces):
                n = self.offsets[p + 1] - self.offsets[p]
                k = self.path_offsets[p]
                for s in range(n):
                    m = max_length if n - s > max_length else n - s
                    node = 0
                    for d in range(m):
                        node = self.trie.add_child(node, self.chars[self.offsets[p] + s + d])
                        if node < 0:
                            failed = True
                            break
                        self.paths[k] = node
                        k += 1
                    if failed:
                        break
                if failed:
                    break
        if failed:
            raise MemoryError()
        node_count = self.trie.n_nodes
        # Nodes deepest first (a stable sort on depth: within a depth, creation order).
        depths = np.asarray(<int32_t[:node_count]> self.trie.depth).copy()
        self.order_array = np.argsort(-depths, kind="stable").astype(np.int32)
        self.order_array = self.order_array[self.order_array != 0]
        self.by_depth = self.order_array
        self.first_array = np.zeros(node_count, dtype=np.int64)
        self.first_counts = self.first_array
        self.count_round(np.zeros(1, dtype=np.uint8), self.first_counts, False)

    def __len__(self):
        """Number of candidate subwords (trie nodes)."""
        return self.trie.n_nodes - 1

    cdef void count_round(self, const uint8_t[::1] accepted, int64_t[::1] counts, bint cut) noexcept nogil:
        """Add each piece's count to the candidates starting where the vocabulary
        ``accepted`` cuts it greedily (``cut`` False: no vocabulary yet, every position)."""
        cdef Py_ssize_t p, n, s, m, k, step, d
        cdef int64_t c
        for p in range(self.piece_counts.shape[0]):
            n = self.offsets[p + 1] - self.offsets[p]
            c = self.piece_counts[p]
            k = self.path_offsets[p]
            s = 0
            while s < n:
                m = self.max_length if n - s > self.max_length else n - s
                for d in range(m):
                    counts[self.paths[k + d]] += c
                # The longest accepted subword starting at s decides the next start.
                step = 1
                if cut:
                    for d in range(m - 1, -1, -1):
                        if accepted[self.paths[k + d]]:
                            step = d + 1
                            break
                # Paths of the positions skipped over are not read: move k past them.
                for d in range(step):
                    k += self.max_length if n - s - d > self.max_length else n - s - d
                s += step

    cdef Py_ssize_t accept(self, int64_t[::1] counts, int64_t min_count, uint8_t[::1] accepted) noexcept nogil:
        """Deepest first, accept candidates with ``count >= min_count`` (single bytes
        excluded) and take their count from their prefixes; returns how many."""
        cdef Py_ssize_t i, n_accepted = 0
        cdef int32_t node, up
        cdef int64_t c
        for i in range(self.by_depth.shape[0]):
            node = self.by_depth[i]
            accepted[node] = 0
            c = counts[node]
            if c < min_count:
                continue
            if self.trie.depth[node] == 1 and self.trie.last_char[node] < 0x80:
                continue
            accepted[node] = 1
            n_accepted += 1
            up = self.trie.parent[node]
            while up > 0:
                counts[up] -= c
                up = self.trie.parent[up]
        return n_accepted

    def run(self, int64_t min_count, int rounds=4):
        """The vocabulary after ``rounds`` refinement rounds at this minimum count.

        Returns
        -------
        (nodes, counts) : int32 and int64 arrays
            The accepted candidates and their counts (after the prefix discount).
        """
        if rounds < 1:
            raise ValueError("rounds must be positive")
        cdef Py_ssize_t i, node_count = self.trie.n_nodes
        flags = np.zeros(node_count, dtype=np.uint8)
        counts = self.first_array.copy()
        cdef uint8_t[::1] accepted = flags
        cdef int64_t[::1] counts_view = counts
        cdef int r
        with nogil:
            self.accept(counts_view, min_count, accepted)
            for r in range(1, rounds):
                for i in range(node_count):
                    counts_view[i] = 0
                self.count_round(accepted, counts_view, True)
                self.accept(counts_view, min_count, accepted)
        nodes = np.flatnonzero(flags).astype(np.int32)
        return nodes, counts[nodes]

    def strings(self, nodes):
        """The str of each node."""
        return [self.trie.string(int(node)) for node in nodes]
