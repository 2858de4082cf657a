"""The public API of fastembed carries type hints, and the package says so (PEP 561's py.typed).

Scope: the packages fastembed.text, fastembed.embeddings, fastembed.models,
fastembed.word2vec and fastembed.dask, and the modules fastembed.layers, callbacks,
optimizers, sparse_optim, losses, metrics, regularizers, initializers, activations, data,
datasets, tfds, utils, ops, search, ragged and sparse.

Public: the names a package exports (``__all__``) and the non-underscore names of its
non-underscore submodules and of the modules (their ``__all__`` when they have one), when
defined in the scope (imports such as ``numpy``, or names re-exported from private modules
such as ``fastembed._registry``, are checked where they are defined, or not at all). For
each public function, and each public method, ``__init__``, ``__call__``, static and class
method and property accessor of a public class (inherited ones included, those of
``object`` and other builtins excluded), every parameter but ``self`` / ``cls`` /
``*args`` / ``**kwargs`` needs an annotation, and so does the return (``-> None`` for
``__init__`` too).
"""

import importlib
import inspect
import os
import pkgutil

import fastembed

PACKAGES = ("fastembed.text", "fastembed.embeddings", "fastembed.models", "fastembed.word2vec", "fastembed.dask")
MODULES = (
    "fastembed.layers",
    "fastembed.callbacks",
    "fastembed.optimizers",
    "fastembed.sparse_optim",
    "fastembed.losses",
    "fastembed.metrics",
    "fastembed.regularizers",
    "fastembed.initializers",
    "fastembed.activations",
    "fastembed.data",
    "fastembed.datasets",
    "fastembed.tfds",
    "fastembed.utils",
    "fastembed.ops",
    "fastembed.search",
    "fastembed.ragged",
    "fastembed.sparse",
)
SCOPE = PACKAGES + MODULES
CHECKED_DUNDERS = ("__init__", "__call__")

# Reached by the walk, or it could pass by checking nothing.
EXPECTED = (
    "fastembed.text._standardize.lower_ascii",
    "fastembed.text.sequence.pad_sequences",
    "fastembed.text.vectorizer.TextVectorizer.__init__",
    "fastembed.text.vectorizer.TextVectorizer.__call__",
    "fastembed.text.vectorizer.TextVectorizer.load",
    "fastembed.text.subword.SubwordEncoder.build_from_corpus",
    "fastembed.text.subword.SubwordEncoder.vocab_size",
    "fastembed.text.layer.register_text_function",
    "fastembed.text.layer.TextVectorization.adapt",
    "fastembed.embeddings._keyed_vectors.KeyedVectors.most_similar",
    "fastembed.embeddings._keyed_vectors.KeyedVectors.cosine_similarities",
    "fastembed.layers.Layer.weights",
    "fastembed.layers.Embedding.__init__",
    "fastembed.layers._GlobalPooling1D.compute_mask",
    "fastembed.layers.deserialize",
    "fastembed.callbacks.Callback.on_epoch_end",
    "fastembed.callbacks.CallbackList.call",
    "fastembed.callbacks.TensorBoard.__init__",
    "fastembed.models._sequential.Sequential.__init__",
    "fastembed.models._sequential.Sequential.fit",
    "fastembed.models._sequential.Sequential.layers",
    "fastembed.models._saving.load_model",
    "fastembed.optimizers.Adam.__init__",
    "fastembed.optimizers.Optimizer.apply_embedding",
    "fastembed.optimizers.get",
    "fastembed.sparse_optim.SparseOptimizer.set_state",
    "fastembed.losses.Loss.value_and_grad",
    "fastembed.metrics.Metric.update",
    "fastembed.initializers.Initializer.__call__",
    "fastembed.activations.ReLU.backward",
    "fastembed.regularizers.serialize",
    "fastembed.data.Dataset.batch",
    "fastembed.data.Dataset.zip",
    "fastembed.data.constant",
    "fastembed.datasets.load_text_dataset",
    "fastembed.tfds.load",
    "fastembed.utils.text_dataset_from_directory",
    "fastembed.ops.embedding_bag",
    "fastembed.search.top_k_similar",
    "fastembed.ragged.Ragged.from_rows",
    "fastembed.ragged.Ragged.to_padded",
    "fastembed.sparse.SparseRows.to_dense",
    "fastembed.word2vec._model.Word2Vec.train",
    "fastembed.word2vec._fasttext.FastText.build_vocab",
    "fastembed.word2vec._fasttext.FastTextKeyedVectors.get_vector",
    "fastembed.dask._training.fit",
    "fastembed.dask._scoring.predict",
    "fastembed.dask._vocabulary.adapt",
)


def _in_scope(module_name):
    return any(module_name == name or module_name.startswith(name + ".") for name in SCOPE)


def _scope_modules():
    modules = [importlib.import_module(name) for name in MODULES]
    for name in PACKAGES:
        package = importlib.import_module(name)
        modules.append(package)
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                modules.append(importlib.import_module("%s.%s" % (name, info.name)))
    return modules


def _public_objects():
    """The public classes and functions of the scope's modules, each once."""
    seen = {}
    for module in _scope_modules():
        names = getattr(module, "__all__", None)
        if names is None:
            names = [name for name in vars(module) if not name.startswith("_")]
        for name in names:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and _in_scope(obj.__module__):
                seen.setdefault(id(obj), obj)
    return list(seen.values())


def _class_functions(cls):
    """``(function, is_method)`` for the public callables of ``cls`` and its bases in scope."""
    for klass in cls.__mro__:
        if not _in_scope(klass.__module__):  # object, tuple (NamedTuple), ...
            continue
        for name, raw in vars(klass).items():
            if name.startswith("_") and name not in CHECKED_DUNDERS:
                continue
            if isinstance(raw, staticmethod):
                yield raw.__func__, False
            elif isinstance(raw, classmethod):
                yield raw.__func__, True
            elif isinstance(raw, property):
                for accessor in (raw.fget, raw.fset, raw.fdel):
                    if accessor is not None:
                        yield accessor, True
            elif inspect.isfunction(raw):
                yield raw, True


def public_functions():
    """``{qualified name: (function, is_method)}`` of everything the test checks."""
    found = {}
    for obj in _public_objects():
        pairs = _class_functions(obj) if inspect.isclass(obj) else [(obj, False)]
        for function, is_method in pairs:
            # Keyed by where the function is defined: aliases and inherited methods count once.
            found.setdefault("%s.%s" % (function.__module__, function.__qualname__), (function, is_method))
    return found


def missing_annotations(function, is_method):
    """The parameters (and ``'return'``) of ``function`` that have no annotation."""
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    if is_method and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    missing = [
        parameter.name
        for parameter in parameters
        if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        and parameter.annotation is parameter.empty
    ]
    if signature.return_annotation is signature.empty:
        missing.append("return")
    return missing


def test_the_walk_reaches_the_public_api():
    found = public_functions()
    absent = [name for name in EXPECTED if name not in found]
    assert not absent, "the walk no longer reaches: %s" % ", ".join(absent)
    for module in SCOPE:
        assert any(name.startswith(module + ".") for name in found), "nothing checked in %s" % module


def test_public_api_has_type_hints():
    offending = []
    for name, (function, is_method) in sorted(public_functions().items()):
        missing = missing_annotations(function, is_method)
        if missing:
            offending.append("%s (%s)" % (name, ", ".join(missing)))
    message = "%d public functions lack type hints:\n  %s" % (len(offending), "\n  ".join(offending))
    assert not offending, message


def test_missing_hints_are_reported():
    def annotated(self, text: str, *args, flag: bool = False, **kwargs) -> None:
        pass

    def bare(self, text, flag=False):
        pass

    def init(self, size: int):
        pass

    assert missing_annotations(annotated, True) == []
    assert missing_annotations(bare, True) == ["text", "flag", "return"]
    assert missing_annotations(bare, False) == ["self", "text", "flag", "return"]
    assert missing_annotations(init, True) == ["return"]


def test_package_is_marked_typed():
    marker = os.path.join(os.path.dirname(fastembed.__file__), "py.typed")
    assert os.path.isfile(marker), "%s is missing: type checkers would ignore the hints (PEP 561)" % marker
