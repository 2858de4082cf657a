"""Compiled Cython + OpenMP kernels. Import them through :mod:`fastembed.ops`."""
