"""AVX2 + FMA builds of the update kernels; loaded by fastembed._kernels when the CPU has them."""
