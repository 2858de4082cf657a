"""Word tokenizer and token table behind ``fastembed.text.TextVectorizer``.

One pass over each text's characters standardises (ASCII lower-casing, punctuation and
``<br />`` removal), splits on ASCII whitespace and hashes each token into an
open-addressing table of the tokens' characters. No Python object is made per token:
counting creates strings only for the distinct tokens at the end, and encoding writes ids
straight into the output array, in parallel over texts (the table is read-only there).

The Python twin is ``TextVectorizer``'s own path through ``fastembed.text._standardize``
(used for callables and n-grams); tests check that both give the same ids.
"""

from cpython.unicode cimport PyUnicode_DATA, PyUnicode_FromKindAndData, PyUnicode_GET_LENGTH, PyUnicode_KIND
from cython.parallel cimport parallel, prange
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy

from fastembed._kernels._types cimport omp_get_thread_num

import numpy as np

cdef extern from "Python.h":
    const int PyUnicode_4BYTE_KIND
    # Declared as returning uint32_t: Cython would turn a Py_UCS4 in arithmetic into a str.
    uint32_t PyUnicode_READ(int kind, const void* data, Py_ssize_t index) nogil

# Standardisation flags (TextVectorizer maps its standardize names onto them).
LOWER = 1
STRIP_PUNCTUATION = 2
STRIP_HTML = 4

cdef enum:
    _LOWER = 1
    _STRIP_PUNCTUATION = 2
    _STRIP_HTML = 4


cdef inline bint is_ascii_space(uint32_t c) noexcept nogil:
    # What tf.strings.split splits on: space, \t, \n, \v, \f, \r.
    return c == 32 or (c >= 9 and c <= 13)


cdef inline bint is_ascii_punctuation(uint32_t c) noexcept nogil:
    # The 32 characters of Python's string.punctuation (Keras' DEFAULT_STRIP_REGEX).
    return (c >= 33 and c <= 47) or (c >= 58 and c <= 64) or (c >= 91 and c <= 96) or (c >= 123 and c <= 126)


cdef inline Py_ssize_t html_break_end(const void* data, int kind, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    """If ``<br\\s*/?>`` (any case, ASCII spaces) starts at ``i``, return the index after it, else -1."""
    cdef uint32_t c
    if i + 2 >= n:
        return -1
    c = PyUnicode_READ(kind, data, i + 1)
    if c != 98 and c != 66:  # b B
        return -1
    c = PyUnicode_READ(kind, data, i + 2)
    if c != 114 and c != 82:  # r R
        return -1
    i += 3
    while i < n and is_ascii_space(PyUnicode_READ(kind, data, i)):
        i += 1
    if i < n and PyUnicode_READ(kind, data, i) == 47:  # /
        i += 1
    if i < n and PyUnicode_READ(kind, data, i) == 62:  # >
        return i + 1
    return -1


cdef Py_ssize_t tokenize(const void* data, int kind, Py_ssize_t n, int flags,
                         uint32_t* chars, Py_ssize_t* ends) noexcept nogil:
    """Standardise and split one text.

    The tokens' characters go back to back into ``chars`` (room for ``n``: standardising
    never lengthens a text) and the end of token k into ``ends[k]``. Returns the number
    of tokens.
    """
    cdef Py_ssize_t i = 0, written = 0, token_start = 0, n_tokens = 0, after
    cdef uint32_t c
    while i < n:
        c = PyUnicode_READ(kind, data, i)
        if c == 60 and (flags & _STRIP_HTML):  # '<': a line break counts as a space
            after = html_break_end(data, kind, n, i)
            if after > 0:
                if written > token_start:
                    ends[n_tokens] = written
                    n_tokens += 1
                    token_start = written
                i = after
                continue
        i += 1
        if (flags & _LOWER) and c >= 65 and c <= 90:
            c += 32
        if (flags & _STRIP_PUNCTUATION) and is_ascii_punctuation(c):
            continue  # deleted before splitting: "don't" is one token, "dont"
        if is_ascii_space(c):
            if written > token_start:
                ends[n_tokens] = written
                n_tokens += 1
                token_start = written
            continue
        chars[written] = c
        written += 1
    if written > token_start:
        ends[n_tokens] = written
        n_tokens += 1
    return n_tokens


cdef inline uint64_t hash_token(const uint32_t* chars, Py_ssize_t length) noexcept nogil:
    # FNV-1a over the code points, then a final mix so the low bits (the slot) spread.
    cdef uint64_t h = 1469598103934665603ULL
    cdef Py_ssize_t k
    for k in range(length):
        h = (h ^ chars[k]) * 1099511628211ULL
    h ^= h >> 29
    h *= 0xbf58476d1ce4e5b9ULL
    return h ^ (h >> 32)


cdef struct Slot:
    int64_t start   # offset of the token's characters in the arena; -1: empty slot
    int64_t length
    int64_t value   # a count while adapting, an id when encoding
    uint64_t hash


cdef class TokenTable:
    """Open-addressing hash table from tokens (code-point strings) to int64 values."""
    cdef Slot* slots
    cdef Py_ssize_t capacity, size
    cdef uint32_t* arena
    cdef Py_ssize_t arena_used, arena_capacity

    def __cinit__(self):
        self.capacity = 1024
        self.size = 0
        self.slots = <Slot*> malloc(self.capacity * sizeof(Slot))
        self.arena_capacity = 16384
        self.arena_used = 0
        self.arena = <uint32_t*> malloc(self.arena_capacity * sizeof(uint32_t))
        if self.slots == NULL or self.arena == NULL:
            raise MemoryError()
        self._clear_slots(self.slots, self.capacity)

    def __dealloc__(self):
        free(self.slots)
        free(self.arena)

    def __len__(self):
        return self.size

    cdef void _clear_slots(self, Slot* slots, Py_ssize_t capacity) noexcept nogil:
        cdef Py_ssize_t k
        for k in range(capacity):
            slots[k].start = -1

    cdef Py_ssize_t find(self, const uint32_t* chars, Py_ssize_t length, uint64_t h) noexcept nogil:
        """Slot of the token, or the empty slot where it would go (read-only, thread-safe)."""
        cdef Py_ssize_t mask = self.capacity - 1
        cdef Py_ssize_t k = <Py_ssize_t> (h & <uint64_t> mask)
        cdef Slot* slot
        while True:
            slot = &self.slots[k]
            if slot.start < 0:
                return k
            if (slot.hash == h and slot.length == length
                    and memcmp(&self.arena[slot.start], chars, length * sizeof(uint32_t)) == 0):
                return k
            k = (k + 1) & mask

    cdef int _grow(self) noexcept nogil:
        cdef Py_ssize_t new_capacity = self.capacity * 2, k, j, mask = new_capacity - 1
        cdef Slot* new_slots = <Slot*> malloc(new_capacity * sizeof(Slot))
        if new_slots == NULL:
            return -1
        self._clear_slots(new_slots, new_capacity)
        for k in range(self.capacity):
            if self.slots[k].start >= 0:
                j = <Py_ssize_t> (self.slots[k].hash & <uint64_t> mask)
                while new_slots[j].start >= 0:
                    j = (j + 1) & mask
                new_slots[j] = self.slots[k]
        free(self.slots)
        self.slots = new_slots
        self.capacity = new_capacity
        return 0

    cdef Py_ssize_t insert(self, const uint32_t* chars, Py_ssize_t length, uint64_t h) noexcept nogil:
        """Slot of the token, added (value 0) when new; -1 when out of memory."""
        cdef Py_ssize_t k = self.find(chars, length, h)
        cdef Py_ssize_t new_capacity
        cdef uint32_t* new_arena
        if self.slots[k].start >= 0:
            return k
        if self.arena_used + length > self.arena_capacity:
            new_capacity = 2 * self.arena_capacity + length
            new_arena = <uint32_t*> realloc(self.arena, new_capacity * sizeof(uint32_t))
            if new_arena == NULL:
                return -1
            self.arena = new_arena
            self.arena_capacity = new_capacity
        memcpy(&self.arena[self.arena_used], chars, length * sizeof(uint32_t))
        self.slots[k].start = self.arena_used
        self.slots[k].length = length
        self.slots[k].value = 0
        self.slots[k].hash = h
        self.arena_used += length
        self.size += 1
        # Keep the load factor under 1/2 so that probe runs stay short.
        if 2 * self.size > self.capacity:
            if self._grow() != 0:
                return -1
            k = self.find(chars, length, h)
        return k

    def add_tokens(self, tokens, int64_t first_value):
        """Insert ``tokens`` (distinct strings) with values ``first_value``, ``first_value + 1``, ..."""
        cdef Py_ssize_t length, k, j, capacity = 0
        cdef uint32_t* buffer = NULL
        cdef uint32_t* grown
        cdef int kind
        cdef const void* data
        cdef int64_t value = first_value
        try:
            for token in tokens:
                if type(token) is not str:
                    raise TypeError("tokens must be str, got %s" % type(token).__name__)
                length = PyUnicode_GET_LENGTH(token)
                if length + 1 > capacity:  # one buffer, grown to the longest token
                    capacity = 2 * (length + 1)
                    grown = <uint32_t*> realloc(buffer, capacity * sizeof(uint32_t))
                    if grown == NULL:
                        raise MemoryError()
                    buffer = grown
                kind = PyUnicode_KIND(token)
                data = PyUnicode_DATA(token)
                for j in range(length):
                    buffer[j] = PyUnicode_READ(kind, data, j)
                k = self.insert(buffer, length, hash_token(buffer, length))
                if k < 0:
                    raise MemoryError()
                self.slots[k].value = value
                value += 1
        finally:
            free(buffer)

    def count(self, tuple texts, int flags):
        """Tokenise ``texts`` (a tuple of str) and add 1 to each token's value per occurrence."""
        cdef _Texts source = _Texts(texts)
        cdef uint32_t* chars = <uint32_t*> malloc((source.max_length + 1) * sizeof(uint32_t))
        cdef Py_ssize_t* ends = <Py_ssize_t*> malloc((source.max_length + 1) * sizeof(Py_ssize_t))
        cdef Py_ssize_t t, n_tokens, j, start, k
        cdef bint failed = False
        if chars == NULL or ends == NULL:
            free(chars)
            free(ends)
            raise MemoryError()
        with nogil:
            for t in range(source.n):
                n_tokens = tokenize(source.data[t], source.kind[t], source.length[t], flags, chars, ends)
                start = 0
                for j in range(n_tokens):
                    k = self.insert(&chars[start], ends[j] - start, hash_token(&chars[start], ends[j] - start))
                    if k < 0:
                        failed = True
                        break
                    self.slots[k].value += 1
                    start = ends[j]
                if failed:
                    break
        free(chars)
        free(ends)
        if failed:
            raise MemoryError()

    def items(self):
        """Return ``(tokens, values)``: a list of str and an int64 array, in slot order."""
        tokens = []
        values = np.empty(self.size, dtype=np.int64)
        cdef int64_t[::1] out = values
        cdef Py_ssize_t k, i = 0
        for k in range(self.capacity):
            if self.slots[k].start >= 0:
                tokens.append(PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, &self.arena[self.slots[k].start],
                                                        self.slots[k].length))
                out[i] = self.slots[k].value
                i += 1
        return tokens, values

    def items_in_order(self):
        """As :meth:`items`, in the order the tokens were first inserted."""
        tokens, values = self.items()
        starts = np.empty(self.size, dtype=np.int64)
        cdef int64_t[::1] out = starts
        cdef Py_ssize_t k, i = 0
        for k in range(self.capacity):
            if self.slots[k].start >= 0:
                out[i] = self.slots[k].start
                i += 1
        order = np.argsort(starts, kind="stable")
        return [tokens[j] for j in order], values[order]

    def add_counts(self, tokens, const int64_t[::1] values):
        """Insert distinct ``tokens`` with the given values (in this order)."""
        if len(tokens) != values.shape[0]:
            raise ValueError("one value per token")
        self.add_tokens(tokens, 0)
        cdef Py_ssize_t i, k, length, j
        cdef uint32_t* buffer = NULL
        cdef int kind
        cdef const void* data
        try:
            for i, token in enumerate(tokens):
                length = PyUnicode_GET_LENGTH(token)
                free(buffer)
                buffer = <uint32_t*> malloc((length + 1) * sizeof(uint32_t))
                if buffer == NULL:
                    raise MemoryError()
                kind = PyUnicode_KIND(token)
                data = PyUnicode_DATA(token)
                for j in range(length):
                    buffer[j] = PyUnicode_READ(kind, data, j)
                k = self.find(buffer, length, hash_token(buffer, length))
                self.slots[k].value = values[i]
        finally:
            free(buffer)

    cdef inline int32_t lookup(self, const uint32_t* chars, Py_ssize_t length, int32_t missing) noexcept nogil:
        cdef Py_ssize_t k = self.find(chars, length, hash_token(chars, length))
        return <int32_t> self.slots[k].value if self.slots[k].start >= 0 else missing

    def count_tokens(self, tuple texts, int flags, int64_t[::1] lengths, int num_threads):
        """Number of tokens in each text, into ``lengths`` (sizes the ragged output)."""
        cdef _Texts source = _Texts(texts)
        cdef _Scratch scratch = _Scratch(source.max_length, num_threads)
        cdef Py_ssize_t t
        cdef int thread
        with nogil, parallel(num_threads=num_threads):
            thread = omp_get_thread_num()
            for t in prange(source.n, schedule="dynamic", chunksize=64):
                lengths[t] = tokenize(source.data[t], source.kind[t], source.length[t], flags,
                                      scratch.chars(thread), scratch.ends(thread))

    def encode(self, tuple texts, int flags, const int64_t[::1] offsets, Py_ssize_t row_length,
               int32_t[::1] out, int32_t missing, int num_threads):
        """Write each text's ids into ``out``.

        Text t's ids start at ``offsets[t]``; at most ``row_length`` of them are written
        (the first ones), or all of them when ``row_length`` is negative. Positions not
        written keep their value (the caller fills padding).
        """
        cdef _Texts source = _Texts(texts)
        cdef _Scratch scratch = _Scratch(source.max_length, num_threads)
        cdef Py_ssize_t t, j, n_tokens, start, base
        cdef int thread
        cdef uint32_t* chars
        cdef Py_ssize_t* ends
        cdef Py_ssize_t out_size = out.shape[0]
        if offsets.shape[0] < source.n:
            raise ValueError("offsets has %d entries for %d texts" % (offsets.shape[0], source.n))
        with nogil, parallel(num_threads=num_threads):
            thread = omp_get_thread_num()
            chars = scratch.chars(thread)
            ends = scratch.ends(thread)
            for t in prange(source.n, schedule="dynamic", chunksize=64):
                n_tokens = tokenize(source.data[t], source.kind[t], source.length[t], flags, chars, ends)
                if row_length >= 0 and n_tokens > row_length:
                    n_tokens = row_length
                base = offsets[t]
                if base + n_tokens > out_size:  # never write past the output
                    n_tokens = out_size - base if base < out_size else 0
                start = 0
                for j in range(n_tokens):
                    out[base + j] = self.lookup(&chars[start], ends[j] - start, missing)
                    start = ends[j]


cdef class _Texts:
    """Character buffers of a tuple of str, read without the GIL (the tuple keeps them alive).

    Declared in ``_text.pxd``: ``_subword.pyx`` uses it too."""

    def __cinit__(self, tuple texts):
        cdef Py_ssize_t t
        self.keep = texts
        self.n = len(texts)
        self.max_length = 0
        self.data = <const void**> malloc((self.n + 1) * sizeof(void*))
        self.kind = <int*> malloc((self.n + 1) * sizeof(int))
        self.length = <Py_ssize_t*> malloc((self.n + 1) * sizeof(Py_ssize_t))
        if self.data == NULL or self.kind == NULL or self.length == NULL:
            raise MemoryError()
        for t in range(self.n):
            text = texts[t]
            if type(text) is not str:
                raise TypeError("texts[%d] is %s, not str" % (t, type(text).__name__))
            self.data[t] = PyUnicode_DATA(text)
            self.kind[t] = PyUnicode_KIND(text)
            self.length[t] = PyUnicode_GET_LENGTH(text)
            if self.length[t] > self.max_length:
                self.max_length = self.length[t]

    def __dealloc__(self):
        free(self.data)
        free(self.kind)
        free(self.length)


cdef class _Scratch:
    """One tokenizer buffer per thread, each long enough for the longest text."""
    cdef uint32_t* chars_buffer
    cdef Py_ssize_t* ends_buffer
    cdef Py_ssize_t stride

    def __cinit__(self, Py_ssize_t max_length, int num_threads):
        self.stride = max_length + 1
        self.chars_buffer = <uint32_t*> malloc(self.stride * num_threads * sizeof(uint32_t))
        self.ends_buffer = <Py_ssize_t*> malloc(self.stride * num_threads * sizeof(Py_ssize_t))
        if self.chars_buffer == NULL or self.ends_buffer == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.chars_buffer)
        free(self.ends_buffer)

    cdef inline uint32_t* chars(self, int thread) noexcept nogil:
        return self.chars_buffer + thread * self.stride

    cdef inline Py_ssize_t* ends(self, int thread) noexcept nogil:
        return self.ends_buffer + thread * self.stride
