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
    double scl_slope, scl_inter;
    int qform_code, sform_code;
    double qto_xyz[16];      // row-major 4x4
    double sto_xyz[16];
    double pixdim[8];        // pixdim[0] = qfac
    void *handle;            // the nifti_image
} cnifti_image;

/// Reads the header of `path` (.nii, .nii.gz, NIfTI-1 or -2) for its geometry; the caller has checked the
/// raw header first (libnifti trusts dim[0] and overflows its stack on values above 7). 0 on success.
int cnifti_open(const char *path, cnifti_image *out);
void cnifti_close(cnifti_image *img);
const char *cnifti_datatype_name(int code);

/// Writes a 3D NIfTI-1 (version 1) or NIfTI-2 (version 2) image (`path` ends in .nii or .nii.gz).
/// `data` is Fortran order, `affine` row-major; it becomes both sform and qform. 0 on success; non-zero
/// when any write or the close failed (a full disk, a file-size limit), the file then being incomplete,
/// with the OS error in `os_error` (0 when none was set).
int cnifti_write(const char *path, const int64_t dims[3], int datatype, const void *data, const double affine[16],
                 int qform_code, int sform_code, int version, int *os_error);
#endif
