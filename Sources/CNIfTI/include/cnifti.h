// A small C surface over libnifti (nifti2_io), so Swift never includes libnifti's headers
// (Debian installs them under nifti/ and they include <znzlib.h> unqualified).
#ifndef CNIFTI_H
#define CNIFTI_H
#include <stdint.h>

typedef struct {
    int64_t ndim;
    int64_t dim[7];          // nx, ny, nz, nt, nu, nv, nw
    int datatype;            // DT_* code
    int nifti_type;          // libnifti's NIFTI_FTYPE_*
    int version;             // 1 or 2, from sizeof_hdr (348 / 540)
    double scl_slope, scl_inter;
    int qform_code, sform_code;
    double qto_xyz[16];      // row-major 4x4
    double sto_xyz[16];
    double pixdim[8];        // pixdim[0] = qfac
    int64_t vox_offset;
    void *data;              // voxel data (Fortran order) after cnifti_load
    void *handle;            // the nifti_image
} cnifti_image;

/// Reads the header of `path` (.nii, .nii.gz, NIfTI-1 or -2). 0 on success.
int cnifti_open(const char *path, cnifti_image *out);
/// Reads the voxel data into out->data. 0 on success (non-zero: truncated or corrupt).
int cnifti_load(cnifti_image *img);
void cnifti_close(cnifti_image *img);
const char *cnifti_datatype_name(int code);

/// Writes a 3D NIfTI-1 (version 1) or NIfTI-2 (version 2) image (`path` ends in .nii or .nii.gz).
/// `data` is Fortran order, `affine` row-major; it becomes both sform and qform. 0 on success.
int cnifti_write(const char *path, const int64_t dims[3], int datatype, const void *data, const double affine[16],
                 int qform_code, int sform_code, int version);
#endif
