// Deliberately broken kernels: scripts/oclgrind-tests runs them first and requires Oclgrind to report each,
// so an Oclgrind that reports nothing cannot make the kernel suite pass vacuously.
kernel void out_of_bounds(global float *x) { x[get_global_id(0) + 1] = 1.0f; }
kernel void write_race(global float *x) { x[0] = (float)get_global_id(0); }
