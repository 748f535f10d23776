// A small C surface over libnifti (nifti2_io), so Swift never includes libnifti's headers
// (Debian installs them under nifti/ and they include <znzlib.h> unqualified).
#ifndef CNIFTI_H
#define CNIFTI_H
#include <stdint.h>

/// The geometry libnifti derives from a header (everything else is read and checked in Swift).
typedef struct {
    int qform_code, sform_code;
    double qto_xyz[16];      // row-major 4x4
    double sto_xyz[16];
    double pixdim[8];        // pixdim[0] = qfac
} cnifti_image;

/// libnifti's reading of a header already read and checked by the caller (the 348 bytes of a NIfTI-1 or
/// the 540 of a NIfTI-2 header, either byte order), for its qform/sform geometry; the file itself is not
/// opened again (libnifti trusts dim[0], renames .img to .hdr and reads extensions unbounded). 0 on success.
int cnifti_header(const void *bytes, int version, cnifti_image *out);

/// Writes a 3D NIfTI-1 (version 1) or NIfTI-2 (version 2) image (`path` ends in .nii or .nii.gz).
/// `data` is Fortran order, `affine` row-major; it becomes both sform and qform. 0 on success; non-zero
/// when any write or the close failed (a full disk, a file-size limit), the file then being incomplete,
/// with the OS error in `os_error` (0 when none was set).
int cnifti_write(const char *path, const int64_t dims[3], int datatype, const void *data, const double affine[16],
                 int qform_code, int sform_code, int version, int *os_error);
#endif
