"""Training curves as a picture: PNG through matplotlib when installed, else an HTML page
with an inline SVG (no network)."""

import html
import os

from .._files import atomic_write


def plot_history(history, path):
    """Draw loss and accuracy per epoch (training and validation); returns the path written."""
    try:
        import matplotlib
    except ImportError:
        path = os.path.splitext(path)[0] + ".html"
        return _write_svg_page(history, path)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    try:
        for axis, metric in zip(axes, ("loss", "accuracy")):
            for name in (metric, "val_" + metric):
                if name in history:
                    axis.plot(range(1, len(history[name]) + 1), history[name], marker="o", label=name)
            axis.set_xlabel("epoch")
            axis.set_title(metric)
            axis.legend()
        figure.tight_layout()
        with atomic_write(path, "wb") as handle:
            figure.savefig(handle, dpi=100, format="png")
    finally:
        plt.close(figure)
    return path


def _write_svg_page(history, path, width=420, height=260, margin=36):
    panels = []
    colours = {"": "#1f77b4", "val_": "#ff7f0e"}
    for metric in ("loss", "accuracy"):
        series = {prefix: history[prefix + metric] for prefix in colours if prefix + metric in history}
        values = [v for vs in series.values() for v in vs]
        if not values:
            continue
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        epochs = max(len(vs) for vs in series.values())
        lines = []
        for prefix, vs in series.items():
            points = " ".join(
                "%.1f,%.1f"
                % (
                    margin + (width - 2 * margin) * (i / max(epochs - 1, 1)),
                    height - margin - (height - 2 * margin) * (v - low) / span,
                )
                for i, v in enumerate(vs)
            )
            lines.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (colours[prefix], points))
            lines.append(
                '<text x="%d" y="%d" fill="%s">%s</text>'
                % (margin, 16 + 14 * len(lines) // 2, colours[prefix], html.escape(prefix + metric))
            )
        panels.append(
            '<svg width="%d" height="%d"><rect width="100%%" height="100%%" fill="white" stroke="#ccc"/>'
            '<text x="%d" y="%d">%.4g</text><text x="%d" y="%d">%.4g</text>%s</svg>'
            % (width, height, 2, margin, high, 2, height - margin, low, "".join(lines))
        )
    with atomic_write(path, encoding="utf-8") as handle:
        handle.write(
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Training curves</title></head>'
            "<body><h1>Training curves (per epoch)</h1>%s</body></html>\n" % "\n".join(panels)
        )
    return path
