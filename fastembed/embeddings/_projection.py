"""PCA of an embedding and a labelled 2-D picture of it.

The PCA is the SVD of the centred vectors, computed from their ``dim x dim`` covariance
(accumulated block by block in float64, so no centred copy of the table is made); the
sign of each component is fixed so that its largest loading is positive (as
scikit-learn's ``svd_flip``), which makes pictures reproducible. Plots go through
matplotlib when it is installed, otherwise (or for ``.html``) into a self-contained HTML
page: an inline SVG with every point labelled and a search box, no network access.
"""

from __future__ import annotations

import html
import os
import warnings
from typing import NamedTuple

import numpy as np

from .._files import atomic_write


class PCAResult(NamedTuple):
    """Coordinates of each key on the principal components, the share of the
    variance each component explains, the components (rows), the mean and the keys."""

    coordinates: np.ndarray
    explained_variance_ratio: np.ndarray
    components: np.ndarray
    mean: np.ndarray
    keys: list[str]


_BLOCK_ROWS = 8192


def pca(vectors, keys, n_components=2):
    """Principal component analysis of ``vectors`` (one row per key).

    Parameters
    ----------
    vectors : (n, dim) array
    keys : list of str
    n_components : int, default 2

    Returns
    -------
    PCAResult
    """
    vectors = np.asarray(vectors)
    n, dim = vectors.shape
    n_components = int(n_components)
    if n < 2:
        raise ValueError("PCA needs at least 2 vectors, got %d" % n)
    if not 1 <= n_components <= min(n, dim):
        raise ValueError("n_components must be in [1, %d], got %d" % (min(n, dim), n_components))
    mean = vectors.mean(axis=0, dtype=np.float64)
    scatter = np.zeros((dim, dim))
    for start in range(0, n, _BLOCK_ROWS):
        block = vectors[start : start + _BLOCK_ROWS].astype(np.float64)
        scatter += block.T @ block
    covariance = (scatter - n * np.outer(mean, mean)) / (n - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1][:n_components]
    components = eigenvectors[:, order].T
    # Fix each component's sign: its largest loading is positive.
    largest = components[np.arange(n_components), np.argmax(np.abs(components), axis=1)]
    components *= np.where(largest < 0, -1.0, 1.0)[:, None]
    total_variance = max(float(np.trace(covariance)), np.finfo(np.float64).tiny)
    ratio = np.clip(eigenvalues[order], 0, None) / total_variance
    coordinates = vectors @ components.T.astype(vectors.dtype) - (mean @ components.T).astype(vectors.dtype)
    return PCAResult(coordinates, ratio, components, mean, list(keys))


def plot(projection, path, title=None):
    """Write a labelled scatter plot of a 2-component :class:`PCAResult`; returns the path."""
    root, suffix = os.path.splitext(path)
    if suffix.lower() in (".html", ".htm"):
        return _write_html(projection, path, title)
    try:
        import matplotlib
    except ImportError:
        html_path = root + ".html"
        warnings.warn(
            "matplotlib is not installed (pip install 'fastembed[plot]'): writing %s instead of %s" % (html_path, path),
            stacklevel=3,
        )
        return _write_html(projection, html_path, title)
    matplotlib.use("Agg")  # files only; never needs a display
    return _write_matplotlib(projection, path, title)


def _axis_labels(projection):
    return [
        "PC%d (%.1f%% of the variance)" % (i + 1, 100 * r) for i, r in enumerate(projection.explained_variance_ratio)
    ]


def _write_matplotlib(projection, path, title):
    import matplotlib.pyplot as plt

    x, y = projection.coordinates[:, 0], projection.coordinates[:, 1]
    figure, axes = plt.subplots(figsize=(10, 8))
    try:
        axes.scatter(x, y, s=8, alpha=0.6)
        for key, xi, yi in zip(projection.keys, x.tolist(), y.tolist()):
            axes.annotate(key, (xi, yi), fontsize=7, alpha=0.8)
        xlabel, ylabel = _axis_labels(projection)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.set_title(title or "Embedding, PCA of %d keys" % len(projection.keys))
        figure.tight_layout()
        with atomic_write(path, "wb") as handle:
            figure.savefig(handle, dpi=120, format="png")
    finally:
        plt.close(figure)
    return path


_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
svg {{ border: 1px solid #ccc; background: #fff; }}
circle {{ fill: #1f77b4; fill-opacity: 0.6; }}
text {{ font-size: 9px; fill: #333; }}
.hit circle {{ fill: #d62728; fill-opacity: 1; }}
.hit text {{ font-size: 13px; font-weight: bold; fill: #d62728; }}
.dim {{ opacity: 0.15; }}
</style></head><body>
<h1>{title}</h1>
<p>{n} points. {xlabel}; {ylabel}.
<label>Search: <input id="search" type="search" placeholder="word"></label> <span id="count"></span></p>
<svg id="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}">
{points}
</svg>
<script>
var input = document.getElementById("search"), count = document.getElementById("count");
var points = Array.prototype.slice.call(document.querySelectorAll("#plot g"));
input.addEventListener("input", function () {{
  var query = input.value.toLowerCase(), hits = 0;
  points.forEach(function (point) {{
    var hit = query.length > 0 && point.getAttribute("data-key").toLowerCase().indexOf(query) >= 0;
    point.setAttribute("class", query.length === 0 ? "" : (hit ? "hit" : "dim"));
    if (hit) {{ hits++; point.parentNode.appendChild(point); }}
  }});
  count.textContent = query.length ? hits + " match" + (hits === 1 ? "" : "es") : "";
}});
</script>
</body></html>
"""


def _write_html(projection, path, title, width=960, height=720, margin=40):
    coordinates = projection.coordinates[:, :2].astype(np.float64)
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    pixels = margin + (coordinates - low) / span * [width - 2 * margin, height - 2 * margin]
    pixels[:, 1] = height - pixels[:, 1]  # SVG's y axis points down
    points = []
    for key, (x, y) in zip(projection.keys, pixels.tolist()):
        label = html.escape(key)
        points.append(
            '<g data-key="%s"><circle cx="%.1f" cy="%.1f" r="3"></circle>'
            '<text x="%.1f" y="%.1f">%s</text></g>' % (html.escape(key, quote=True), x, y, x + 4, y - 4, label)
        )
    xlabel, ylabel = _axis_labels(projection)
    page = _HTML_TEMPLATE.format(
        title=html.escape(title or "Embedding, PCA of %d keys" % len(projection.keys)),
        n=len(projection.keys),
        xlabel=html.escape(xlabel),
        ylabel=html.escape(ylabel),
        width=width,
        height=height,
        points="\n".join(points),
    )
    with atomic_write(path, encoding="utf-8") as handle:
        handle.write(page)
    return path
