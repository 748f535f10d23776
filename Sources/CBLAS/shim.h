// OpenBLAS's CBLAS interface: the CPU reference backend's GEMM.
#include <cblas.h>
