// OpenCL 1.2 API surface (runs on PoCL, NVIDIA, AMD, Intel) and CLBlast's C API.
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <clblast_c.h>
