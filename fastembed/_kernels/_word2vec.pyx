"""Word2vec training kernels: skip-gram and CBOW with negative sampling.

The corpus arrives as word ids (``int32``, out-of-vocabulary words already dropped), cut
into sentences and the sentences into blocks of about 10,000 words (gensim's job size).
A block is the unit of work: it has its own learning rate (from its position in the
training run) and its own random stream (from its seed), so what happens inside a block
does not depend on which thread runs it or when.

Per block, as word2vec.c and gensim do: frequent words are dropped with probability
``1 - sample_int[w] / 2^32``; every position draws a window shrink ``b`` in
``[0, window)``; negatives come from the unigram^0.75 distribution (an alias table: two
reads per draw, whatever the vocabulary size). The sigmoid comes from word2vec.c's
1,000-entry table over [-6, 6].

Two ways to run blocks on threads:

* ``train_shared`` (Hogwild, gensim's and word2vec.c's way): every thread updates the
  one pair of matrices without locks. Fast; the result depends on how the threads
  interleave (that is, on the thread count and on timing).
* ``train_replicas`` + ``merge_replicas`` (deterministic): a fixed number of virtual
  workers each train their own copy, sequentially; then every copy's change since the
  last merge is added to the shared matrices in worker order, and the copies restart
  from the result. Threads only decide which worker runs where, so the vectors are
  bitwise identical for any thread count.

The NumPy twin is ``fastembed.word2vec._reference``.
"""

from cython.parallel cimport prange
from libc.math cimport expf
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc

cdef enum:
    MAX_SENTENCE = 10000  # gensim's MAX_WORDS_IN_BATCH: longer sentences are cut
    SIGMOID_TABLE_SIZE = 1000
    MAX_CBOW_GROUP = 64   # the most CBOW centre words that may share one draw of negatives
    MAX_EXP = 6

# word2vec.c's table: sigmoid at 1,000 points of [-6, 6), clamped to 0 / 1 beyond. One
# expf per score cost more than the dot product before it.
cdef float SIGMOID_TABLE[SIGMOID_TABLE_SIZE]
cdef float SIGMOID_SCALE = <float> (SIGMOID_TABLE_SIZE / (2.0 * MAX_EXP))  # float32 arithmetic throughout


cdef void fill_sigmoid_table() noexcept nogil:
    cdef int i
    cdef float e
    for i in range(SIGMOID_TABLE_SIZE):
        e = expf((<float> i / <float> SIGMOID_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP)
        SIGMOID_TABLE[i] = e / (e + 1.0)


fill_sigmoid_table()


def sigmoid_value(float x):
    """The kernels' sigmoid at one point (for tests)."""
    return sigmoid(x)


def sigmoid_table():
    """The table the kernels read (the NumPy twin reads the same values)."""
    import numpy
    return numpy.array([SIGMOID_TABLE[i] for i in range(SIGMOID_TABLE_SIZE)], dtype=numpy.float32)


cdef inline uint64_t next_random(uint64_t* state) noexcept nogil:
    """splitmix64: a 64-bit stream from any seed (including 0)."""
    cdef uint64_t z
    state[0] += 0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline float sigmoid(float x) noexcept nogil:
    cdef int index
    # Written so that a NaN score gives 1 and never an index into the table.
    if not (x < MAX_EXP):
        return 1.0
    if not (x > -MAX_EXP):
        return 0.0
    # Just below 6, (x + 6) rounds to 12.0f and the index to 1000: one past the table
    # (word2vec.c allocates an extra entry for it). Clamp instead.
    index = <int> ((x + <float> MAX_EXP) * SIGMOID_SCALE)
    if index >= SIGMOID_TABLE_SIZE:
        index = SIGMOID_TABLE_SIZE - 1
    return SIGMOID_TABLE[index]


cdef extern from "_vector.h" nogil:
    float dot "fe_vdot"(const float* a, const float* b, Py_ssize_t n)
    void axpy "fe_vaxpy"(float alpha, const float* x, float* y, Py_ssize_t n)


cdef struct Config:
    int sg
    int window
    int shrink_windows
    int negative
    int cbow_mean
    int cbow_group        # CBOW centre words sharing one draw of negatives
    Py_ssize_t dim
    const uint32_t* sample_int
    const uint32_t* alias_threshold
    const int32_t* alias_other
    Py_ssize_t vocab_size
    # Input rows of word w: comp_ids[comp_offsets[w]:comp_offsets[w + 1]] (word2vec: w
    # itself; fastText: w and its character n-gram buckets), averaged.
    const int64_t* comp_offsets
    const int32_t* comp_ids


cdef struct Scratch:
    int32_t* kept          # the sentence after subsampling
    float* hidden          # CBOW's context mean
    float* hidden_error
    # Skip-gram windows, one centre word at a time:
    int32_t* contexts      # the window's context words (at most 2 * window)
    float** inputs         # their input vectors (a row of syn0, or a composed mean in composed)
    float* composed        # (2 * window, dim): composed inputs (fastText)
    float* errors          # (2 * window, dim): each input's accumulated error
    int32_t* outputs       # the centre word, then the shared negatives
    float* labels
    float* gradients       # (2 * window, negative + 1)
    float** output_rows    # syn1neg rows of outputs
    # CBOW groups of cbow_group centre words:
    float* group_hidden    # (cbow_group, dim): each centre's context mean
    float* group_errors    # (cbow_group, dim)
    Py_ssize_t* group_centre
    Py_ssize_t* group_start
    Py_ssize_t* group_stop
    int64_t* group_count
    int32_t* negatives     # the group's shared negatives
    float* group_gradients # (cbow_group, negative + 1)


cdef inline int32_t draw_negative(const Config* c, uint64_t* state) noexcept nogil:
    cdef uint64_t r = next_random(state)
    cdef Py_ssize_t slot = <Py_ssize_t> ((r >> 32) % <uint64_t> c.vocab_size)
    if <uint32_t> r < c.alias_threshold[slot]:
        return <int32_t> slot
    return c.alias_other[slot]


cdef void negative_step(const Config* c, float* syn1neg, int32_t target, const float* hidden,
                        float* hidden_error, float alpha, uint64_t* state) noexcept nogil:
    """One positive (``target``) and ``negative`` sampled outputs against ``hidden``: the
    output rows move now, the hidden row's error accumulates in ``hidden_error``."""
    cdef int d
    cdef int32_t output
    cdef float label, g
    cdef float* row
    for d in range(c.negative + 1):
        if d == 0:
            output = target
            label = 1
        else:
            output = draw_negative(c, state)
            if output == target:
                continue
            label = 0
        row = &syn1neg[output * c.dim]
        g = (label - sigmoid(dot(hidden, row, c.dim))) * alpha
        axpy(g, row, hidden_error, c.dim)
        axpy(g, hidden, row, c.dim)


cdef inline void add_input(const Config* c, const float* syn0, int32_t w, float* hidden) noexcept nogil:
    """hidden += every input row of w."""
    cdef int64_t r
    for r in range(c.comp_offsets[w], c.comp_offsets[w + 1]):
        axpy(1.0, &syn0[c.comp_ids[r] * c.dim], hidden, c.dim)


cdef inline void spread_error(const Config* c, float* syn0, int32_t w, const float* error) noexcept nogil:
    """Every input row of w moves by the whole error (as gensim's fastText does)."""
    cdef int64_t r
    for r in range(c.comp_offsets[w], c.comp_offsets[w + 1]):
        axpy(1.0, error, &syn0[c.comp_ids[r] * c.dim], c.dim)


cdef void sg_window(const Config* c, float* syn0, float* syn1neg, int32_t centre, const int32_t* contexts,
                    Py_ssize_t n_contexts, float alpha, uint64_t* state, Scratch* t) noexcept nogil:
    """Skip-gram on one window, its pairs batched as Ji et al.'s HogBatch: the centre word
    and one set of negatives serve every context word of the window, so each output row
    is read and written once per window (not once per pair), and all scores come from the
    weights as the window found them.

    gensim and word2vec.c draw new negatives for every pair; this draws ``negative`` per
    window. The quality is the same (bench_word2vec.py measures it against gensim).
    """
    cdef Py_ssize_t a, o, k, n_outputs = 1, parts, dim = c.dim
    cdef int d
    cdef int32_t w, negative_word
    cdef float g, inverse
    cdef float* row
    cdef float* err
    t.outputs[0] = centre
    t.labels[0] = 1
    for d in range(c.negative):
        negative_word = draw_negative(c, state)
        if negative_word == centre:
            continue
        t.outputs[n_outputs] = negative_word
        t.labels[n_outputs] = 0
        n_outputs += 1
    for o in range(n_outputs):
        t.output_rows[o] = &syn1neg[t.outputs[o] * dim]
    for a in range(n_contexts):
        w = contexts[a]
        parts = c.comp_offsets[w + 1] - c.comp_offsets[w]
        if parts == 1:
            t.inputs[a] = &syn0[c.comp_ids[c.comp_offsets[w]] * dim]
        else:
            t.inputs[a] = &t.composed[a * dim]
            for k in range(dim):
                t.inputs[a][k] = 0
            add_input(c, syn0, w, t.inputs[a])
            inverse = 1.0 / parts
            for k in range(dim):
                t.inputs[a][k] = t.inputs[a][k] * inverse
    # Scores first, from the weights as they are.
    for a in range(n_contexts):
        for o in range(n_outputs):
            g = (t.labels[o] - sigmoid(dot(t.inputs[a], t.output_rows[o], dim))) * alpha
            t.gradients[a * n_outputs + o] = g
    # Each input's error, from the output rows before they move; then the output rows,
    # from the inputs before they move (a repeated negative moves once per occurrence).
    for a in range(n_contexts):
        err = &t.errors[a * dim]
        for k in range(dim):
            err[k] = 0
        for o in range(n_outputs):
            axpy(t.gradients[a * n_outputs + o], t.output_rows[o], err, dim)
    for o in range(n_outputs):
        row = t.output_rows[o]
        for a in range(n_contexts):
            axpy(t.gradients[a * n_outputs + o], t.inputs[a], row, dim)
    # Then the inputs.
    for a in range(n_contexts):
        spread_error(c, syn0, contexts[a], &t.errors[a * dim])


cdef inline void window_bounds(const Config* c, Py_ssize_t i, Py_ssize_t m, uint64_t* state,
                               Py_ssize_t* start, Py_ssize_t* stop) noexcept nogil:
    """Context positions [start, stop) of centre i in a sentence of m words: with
    shrink_windows the window shrinks by a draw b in [0, window) on both sides (word2vec.c)."""
    cdef Py_ssize_t b = <Py_ssize_t> ((next_random(state) >> 32) % <uint64_t> c.window) if c.shrink_windows else 0
    start[0] = i - c.window + b if i - c.window + b > 0 else 0
    stop[0] = i + c.window + 1 - b if i + c.window + 1 - b < m else m


cdef void train_cbow_group(const Config* c, float* syn0, float* syn1neg, const int32_t* kept, Py_ssize_t m,
                     Py_ssize_t first, Py_ssize_t group, float alpha, uint64_t* state, Scratch* t) noexcept nogil:
    """CBOW on ``group`` consecutive centre words sharing one draw of negatives: each
    negative's row is read and written once per group rather than once per centre word,
    and all scores come from the weights as the group found them. A group of 1 is
    word2vec.c's and gensim's CBOW (the default); larger groups are faster and, on IMDB,
    a little worse (bench_word2vec.py, README).
    """
    cdef Py_ssize_t p, i, j, a, k, n_active = 0, start, stop, dim = c.dim, n_out = c.negative + 1
    cdef int d
    cdef int64_t count
    cdef float inverse, g
    cdef float* h
    cdef float* e
    cdef float* row
    cdef int32_t target
    for p in range(group):
        i = first + p
        window_bounds(c, i, m, state, &start, &stop)
        h = &t.group_hidden[n_active * dim]
        for k in range(dim):
            h[k] = 0
        count = 0
        for j in range(start, stop):
            if j != i:
                add_input(c, syn0, kept[j], h)
                count += c.comp_offsets[kept[j] + 1] - c.comp_offsets[kept[j]]
        if count == 0:
            continue
        if c.cbow_mean:
            inverse = 1.0 / count
            for k in range(dim):
                h[k] = h[k] * inverse
        t.group_centre[n_active] = i
        t.group_start[n_active] = start
        t.group_stop[n_active] = stop
        t.group_count[n_active] = count
        n_active += 1
    if n_active == 0:
        return
    for d in range(c.negative):
        t.negatives[d] = draw_negative(c, state)
    # Scores first (a negative equal to the centre word is skipped for that centre).
    for a in range(n_active):
        target = kept[t.group_centre[a]]
        h = &t.group_hidden[a * dim]
        t.group_gradients[a * n_out] = (1 - sigmoid(dot(h, &syn1neg[target * dim], dim))) * alpha
        for d in range(c.negative):
            if t.negatives[d] == target:
                t.group_gradients[a * n_out + 1 + d] = 0
            else:
                t.group_gradients[a * n_out + 1 + d] = (0 - sigmoid(dot(h, &syn1neg[t.negatives[d] * dim], dim))) * alpha
    # Each centre's error from the output rows before they move.
    for a in range(n_active):
        target = kept[t.group_centre[a]]
        e = &t.group_errors[a * dim]
        for k in range(dim):
            e[k] = 0
        axpy(t.group_gradients[a * n_out], &syn1neg[target * dim], e, dim)
        for d in range(c.negative):
            if t.negatives[d] != target:
                axpy(t.group_gradients[a * n_out + 1 + d], &syn1neg[t.negatives[d] * dim], e, dim)
    # The output rows: the centres' own rows in order, then each negative's.
    for a in range(n_active):
        axpy(t.group_gradients[a * n_out], &t.group_hidden[a * dim], &syn1neg[kept[t.group_centre[a]] * dim], dim)
    for d in range(c.negative):
        row = &syn1neg[t.negatives[d] * dim]
        for a in range(n_active):
            if t.negatives[d] != kept[t.group_centre[a]]:
                axpy(t.group_gradients[a * n_out + 1 + d], &t.group_hidden[a * dim], row, dim)
    # Then the context words' input rows.
    for a in range(n_active):
        e = &t.group_errors[a * dim]
        if not c.cbow_mean:
            inverse = 1.0 / t.group_count[a]
            for k in range(dim):
                e[k] = e[k] * inverse
        for j in range(t.group_start[a], t.group_stop[a]):
            if j != t.group_centre[a]:
                spread_error(c, syn0, kept[j], e)


cdef Py_ssize_t train_sentence(const Config* c, float* syn0, float* syn1neg, const int32_t* words,
                               Py_ssize_t n, float alpha, uint64_t* state, Scratch* t) noexcept nogil:
    """Train on one sentence; returns the words left after subsampling."""
    cdef Py_ssize_t i, j, m = 0, start, stop
    cdef int32_t w
    cdef int32_t* kept = t.kept
    cdef Py_ssize_t n_contexts, group
    for i in range(n):
        w = words[i]
        if c.sample_int[w] < 0xFFFFFFFFU and c.sample_int[w] < <uint32_t> (next_random(state) >> 32):
            continue
        kept[m] = w
        m += 1
    if not c.sg:
        i = 0
        while i < m:
            group = c.cbow_group if m - i > c.cbow_group else m - i
            train_cbow_group(c, syn0, syn1neg, kept, m, i, group, alpha, state, t)
            i += group
        return m
    for i in range(m):
        window_bounds(c, i, m, state, &start, &stop)
        n_contexts = 0
        for j in range(start, stop):
            if j != i:
                t.contexts[n_contexts] = kept[j]
                n_contexts += 1
        if n_contexts:
            sg_window(c, syn0, syn1neg, kept[i], t.contexts, n_contexts, alpha, state, t)
    return m


cdef int make_scratch(const Config* c, Scratch* t) noexcept nogil:
    cdef Py_ssize_t span = 2 * c.window
    t.kept = <int32_t*> malloc(MAX_SENTENCE * sizeof(int32_t))
    t.hidden = <float*> malloc(c.dim * sizeof(float))
    t.hidden_error = <float*> malloc(c.dim * sizeof(float))
    t.contexts = <int32_t*> malloc(span * sizeof(int32_t))
    t.inputs = <float**> malloc(span * sizeof(float*))
    t.composed = <float*> malloc(span * c.dim * sizeof(float))
    t.errors = <float*> malloc(span * c.dim * sizeof(float))
    t.outputs = <int32_t*> malloc((c.negative + 1) * sizeof(int32_t))
    t.labels = <float*> malloc((c.negative + 1) * sizeof(float))
    t.gradients = <float*> malloc(span * (c.negative + 1) * sizeof(float))
    t.output_rows = <float**> malloc((c.negative + 1) * sizeof(float*))
    t.group_hidden = <float*> malloc(MAX_CBOW_GROUP * c.dim * sizeof(float))
    t.group_errors = <float*> malloc(MAX_CBOW_GROUP * c.dim * sizeof(float))
    t.group_centre = <Py_ssize_t*> malloc(MAX_CBOW_GROUP * sizeof(Py_ssize_t))
    t.group_start = <Py_ssize_t*> malloc(MAX_CBOW_GROUP * sizeof(Py_ssize_t))
    t.group_stop = <Py_ssize_t*> malloc(MAX_CBOW_GROUP * sizeof(Py_ssize_t))
    t.group_count = <int64_t*> malloc(MAX_CBOW_GROUP * sizeof(int64_t))
    t.negatives = <int32_t*> malloc((c.negative + 1) * sizeof(int32_t))
    t.group_gradients = <float*> malloc(MAX_CBOW_GROUP * (c.negative + 1) * sizeof(float))
    if (t.kept == NULL or t.hidden == NULL or t.hidden_error == NULL or t.contexts == NULL or t.inputs == NULL
            or t.composed == NULL or t.errors == NULL or t.outputs == NULL or t.labels == NULL
            or t.gradients == NULL or t.output_rows == NULL or t.group_hidden == NULL or t.group_errors == NULL
            or t.group_centre == NULL or t.group_start == NULL or t.group_stop == NULL or t.group_count == NULL
            or t.negatives == NULL or t.group_gradients == NULL):
        return -1
    return 0


cdef void free_scratch(Scratch* t) noexcept nogil:
    free(t.kept)
    free(t.hidden)
    free(t.hidden_error)
    free(t.contexts)
    free(t.inputs)
    free(t.composed)
    free(t.errors)
    free(t.outputs)
    free(t.labels)
    free(t.gradients)
    free(t.output_rows)
    free(t.group_hidden)
    free(t.group_errors)
    free(t.group_centre)
    free(t.group_start)
    free(t.group_stop)
    free(t.group_count)
    free(t.negatives)
    free(t.group_gradients)


cdef Py_ssize_t train_block(const Config* c, float* syn0, float* syn1neg, const int32_t* words,
                            const int64_t* sentence_ends, Py_ssize_t first_sentence, Py_ssize_t last_sentence,
                            float alpha, uint64_t seed) noexcept nogil:
    """Train on sentences ``[first_sentence, last_sentence)``; returns the effective words
    (after subsampling), or -1 when out of memory."""
    cdef Scratch t
    cdef uint64_t state = seed
    cdef Py_ssize_t s, begin, end, piece, effective = 0
    if make_scratch(c, &t) != 0:
        free_scratch(&t)
        return -1
    for s in range(first_sentence, last_sentence):
        begin = sentence_ends[s - 1] if s > 0 else 0
        end = sentence_ends[s]
        while begin < end:  # a sentence over MAX_SENTENCE words trains as several
            piece = end - begin if end - begin < MAX_SENTENCE else MAX_SENTENCE
            effective += train_sentence(c, syn0, syn1neg, &words[begin], piece, alpha, &state, &t)
            begin += piece
    free_scratch(&t)
    return effective


cdef Config make_config(int sg, int window, int shrink_windows, int negative, int cbow_mean, int cbow_group,
                        Py_ssize_t dim,
                        const uint32_t[::1] sample_int, const uint32_t[::1] alias_threshold,
                        const int32_t[::1] alias_other, const int64_t[::1] comp_offsets,
                        const int32_t[::1] comp_ids, Py_ssize_t input_rows):
    cdef Config c
    cdef Py_ssize_t w, r, n = sample_int.shape[0]
    if window < 1 or negative < 0 or dim < 1:
        raise ValueError("window and dim must be positive and negative >= 0")
    if cbow_group < 1 or cbow_group > MAX_CBOW_GROUP:
        raise ValueError("cbow_group must be in [1, %d]" % MAX_CBOW_GROUP)
    if n == 0 or n != alias_threshold.shape[0] or alias_other.shape[0] != n:
        raise ValueError("sample_int and the alias table must have one entry per word")
    if comp_offsets.shape[0] != n + 1 or comp_offsets[0] != 0 or comp_offsets[n] != comp_ids.shape[0]:
        raise ValueError("comp_offsets must have one entry per word plus one, from 0 to len(comp_ids)")
    for w in range(n):
        if comp_offsets[w + 1] <= comp_offsets[w]:
            raise ValueError("word %d has no input rows" % w)
        if alias_other[w] < 0 or alias_other[w] >= n:
            raise ValueError("the alias table points outside the vocabulary")
    for r in range(comp_ids.shape[0]):
        if comp_ids[r] < 0 or comp_ids[r] >= input_rows:
            raise ValueError("input row %d is outside [0, %d)" % (comp_ids[r], input_rows))
    c.sg = sg
    c.window = window
    c.shrink_windows = shrink_windows
    c.negative = negative
    c.cbow_mean = cbow_mean
    c.cbow_group = cbow_group
    c.dim = dim
    c.sample_int = &sample_int[0]
    c.alias_threshold = &alias_threshold[0]
    c.alias_other = &alias_other[0]
    c.vocab_size = n
    c.comp_offsets = &comp_offsets[0]
    c.comp_ids = &comp_ids[0]
    return c


def _check_blocks(const int32_t[::1] words, const int64_t[::1] sentence_ends, const int64_t[::1] block_starts,
                  Py_ssize_t n_blocks, Py_ssize_t n_seeds, Py_ssize_t vocab_size):
    """The checks both trainers make before running without bounds checks."""
    cdef Py_ssize_t i
    if n_seeds != n_blocks:
        raise ValueError("one seed per block")
    if block_starts.shape[0] != n_blocks + 1:
        raise ValueError("block_starts must have one entry per block plus one")
    if n_blocks and (block_starts[0] < 0 or block_starts[n_blocks] > sentence_ends.shape[0]):
        raise ValueError("blocks reach past the sentences")
    for i in range(n_blocks):
        if block_starts[i + 1] < block_starts[i]:
            raise ValueError("block_starts must not decrease")
    for i in range(sentence_ends.shape[0]):
        if sentence_ends[i] < (sentence_ends[i - 1] if i > 0 else 0):
            raise ValueError("sentence_ends must start at 0 or more and not decrease")
    if sentence_ends.shape[0] and sentence_ends[sentence_ends.shape[0] - 1] > words.shape[0]:
        raise ValueError("sentences reach past the words")
    for i in range(words.shape[0]):
        if words[i] < 0 or words[i] >= vocab_size:
            raise ValueError("word id %d at position %d is outside [0, %d)" % (words[i], i, vocab_size))


def train_shared(float[:, ::1] syn0, float[:, ::1] syn1neg, const int32_t[::1] words,
                 const int64_t[::1] sentence_ends, const int64_t[::1] block_starts,
                 const float[::1] block_alpha, const uint64_t[::1] block_seed,
                 const uint32_t[::1] sample_int, const uint32_t[::1] alias_threshold, const int32_t[::1] alias_other,
                 const int64_t[::1] comp_offsets, const int32_t[::1] comp_ids,
                 int sg, int window, int shrink_windows, int negative, int cbow_mean, int cbow_group,
                 int num_threads):
    """Hogwild: blocks in parallel on one pair of matrices. Returns the effective words.

    ``syn0`` holds the input rows (``comp_ids`` index it), ``syn1neg`` one output row
    per word."""
    cdef Py_ssize_t n_blocks = block_alpha.shape[0], b, done, effective = 0
    cdef int failed = 0
    cdef Config c = make_config(sg, window, shrink_windows, negative, cbow_mean, cbow_group, syn0.shape[1],
                                sample_int, alias_threshold, alias_other, comp_offsets, comp_ids, syn0.shape[0])
    if syn1neg.shape[0] != c.vocab_size or syn1neg.shape[1] != syn0.shape[1]:
        raise ValueError("syn1neg must be (vocabulary, dim) and syn0 (input rows, dim)")
    _check_blocks(words, sentence_ends, block_starts, n_blocks, block_seed.shape[0], c.vocab_size)
    if n_blocks == 0:
        return 0
    with nogil:
        for b in prange(n_blocks, num_threads=num_threads, schedule="dynamic"):
            done = train_block(&c, &syn0[0, 0], &syn1neg[0, 0], &words[0] if words.shape[0] else NULL,
                               &sentence_ends[0], block_starts[b], block_starts[b + 1], block_alpha[b], block_seed[b])
            if done < 0:
                failed += 1
            else:
                effective += done
    if failed:
        raise MemoryError()
    return effective


def train_replicas(float[:, :, ::1] syn0_copies, float[:, :, ::1] syn1neg_copies, const int32_t[::1] words,
                   const int64_t[::1] sentence_ends, const int64_t[::1] block_starts,
                   const float[::1] block_alpha, const uint64_t[::1] block_seed, const int64_t[::1] worker_blocks,
                   const uint32_t[::1] sample_int, const uint32_t[::1] alias_threshold, const int32_t[::1] alias_other,
                   const int64_t[::1] comp_offsets, const int32_t[::1] comp_ids,
                   int sg, int window, int shrink_windows, int negative, int cbow_mean, int cbow_group,
                   int num_threads):
    """Deterministic: worker k trains blocks ``[worker_blocks[k], worker_blocks[k + 1])``
    in order on its own copy ``syn0_copies[k]`` / ``syn1neg_copies[k]``. Returns the
    effective words."""
    cdef Py_ssize_t n_workers = syn0_copies.shape[0], n_blocks = block_alpha.shape[0], k, b, done, effective = 0
    cdef Py_ssize_t worker_effective
    cdef int failed = 0
    cdef Config c = make_config(sg, window, shrink_windows, negative, cbow_mean, cbow_group, syn0_copies.shape[2],
                                sample_int,
                                alias_threshold, alias_other, comp_offsets, comp_ids, syn0_copies.shape[1])
    if (syn1neg_copies.shape[0] != n_workers or syn1neg_copies.shape[1] != c.vocab_size
            or syn1neg_copies.shape[2] != c.dim):
        raise ValueError("the copies must be (workers, input rows, dim) and (workers, vocabulary, dim)")
    if worker_blocks.shape[0] != n_workers + 1 or worker_blocks[0] != 0 or worker_blocks[n_workers] != n_blocks:
        raise ValueError("worker_blocks must split the blocks among the workers")
    for k in range(n_workers):
        if worker_blocks[k + 1] < worker_blocks[k]:
            raise ValueError("worker_blocks must not decrease")
    _check_blocks(words, sentence_ends, block_starts, n_blocks, block_seed.shape[0], c.vocab_size)
    if n_blocks == 0:
        return 0
    with nogil:
        for k in prange(n_workers, num_threads=num_threads, schedule="dynamic", chunksize=1):
            worker_effective = 0
            for b in range(worker_blocks[k], worker_blocks[k + 1]):
                done = train_block(&c, &syn0_copies[k, 0, 0], &syn1neg_copies[k, 0, 0],
                                   &words[0] if words.shape[0] else NULL, &sentence_ends[0],
                                   block_starts[b], block_starts[b + 1], block_alpha[b], block_seed[b])
                if done < 0:
                    failed += 1
                    break
                worker_effective = worker_effective + done
            effective += worker_effective
    if failed:
        raise MemoryError()
    return effective


def merge_replicas(float[:, ::1] shared, float[:, :, ::1] copies, int num_threads):
    """``shared += sum_k (copies[k] - shared)`` in worker order, then every copy = shared.

    Row by row in parallel; each row's sum runs in the same order whatever the thread
    count, so the result is bitwise reproducible.
    """
    cdef Py_ssize_t n_workers = copies.shape[0], rows = shared.shape[0], dim = shared.shape[1], r, k, d
    cdef float base, total
    if copies.shape[1] != rows or copies.shape[2] != dim:
        raise ValueError("copies must be (workers,) + shared.shape")
    with nogil:
        for r in prange(rows, num_threads=num_threads, schedule="static"):
            for d in range(dim):
                base = shared[r, d]
                total = base
                for k in range(n_workers):
                    total = total + (copies[k, r, d] - base)
                shared[r, d] = total
                for k in range(n_workers):
                    copies[k, r, d] = total


def encode_sentences(list sentences, dict vocabulary, int32_t[::1] out, int64_t[::1] ends):
    """Ids of the tokens of ``sentences`` (lists of str) into ``out``, dropping tokens
    not in ``vocabulary``; sentence s ends at ``ends[s]``. Returns the words written."""
    cdef Py_ssize_t s, written = 0
    cdef object index
    for s in range(len(sentences)):
        for token in sentences[s]:
            index = vocabulary.get(token)
            if index is not None:
                out[written] = <int32_t> index
                written += 1
        ends[s] = written
    return written
