#include "cnifti.h"
#include <nifti2_io.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void to_rows(nifti_dmat44 m, double out[16]) {
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) out[r * 4 + c] = m.m[r][c];
}

int cnifti_header(const void *bytes, int version, cnifti_image *out) {
    memset(out, 0, sizeof(*out));
    nifti_set_debug_level(0);
    nifti_image *nim = NULL;
    if (version == 2) {
        nifti_2_header h;
        memcpy(&h, bytes, sizeof(h));
        nim = nifti_convert_n2hdr2nim(h, NULL);
    } else {
        nifti_1_header h;
        memcpy(&h, bytes, sizeof(h));
        nim = nifti_convert_n1hdr2nim(h, NULL);
    }
    if (!nim) return -1;
    out->qform_code = nim->qform_code;
    out->sform_code = nim->sform_code;
    to_rows(nim->qto_xyz, out->qto_xyz);
    to_rows(nim->sto_xyz, out->sto_xyz);
    for (int i = 0; i < 8; ++i) out->pixdim[i] = nim->pixdim[i];
    nifti_image_free(nim);
    return 0;
}

int cnifti_write(const char *path, const int64_t dims[3], int datatype, const void *data, const double affine[16],
                 int qform_code, int sform_code, int version, int *os_error) {
    *os_error = 0;
    int64_t d[8] = {3, dims[0], dims[1], dims[2], 1, 1, 1, 1};
    nifti_image *nim = nifti_make_new_nim(d, datatype, 1);
    if (!nim) return -1;
    nim->nifti_type = version == 2 ? NIFTI_FTYPE_NIFTI2_1 : NIFTI_FTYPE_NIFTI1_1;
    memcpy(nim->data, data, (size_t)nim->nvox * (size_t)nim->nbyper);
    nifti_dmat44 m;
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) m.m[r][c] = affine[r * 4 + c];
    nim->sto_xyz = m;
    nim->sto_ijk = nifti_dmat44_inverse(m);
    double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
    nifti_dmat44_to_quatern(m, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
    nim->quatern_b = qb; nim->quatern_c = qc; nim->quatern_d = qd;
    nim->qoffset_x = qx; nim->qoffset_y = qy; nim->qoffset_z = qz;
    nim->qfac = qfac;
    nim->qto_xyz = nifti_quatern_to_dmat44(qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac);
    nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
    nim->dx = nim->pixdim[1] = dx;
    nim->dy = nim->pixdim[2] = dy;
    nim->dz = nim->pixdim[3] = dz;
    nim->pixdim[0] = qfac;
    nim->qform_code = qform_code;
    nim->sform_code = sform_code;
    nim->xyz_units = NIFTI_UNITS_MM;
    nim->scl_slope = 1;
    nim->scl_inter = 0;
    /* libnifti's writers neither report a failed write (nifti_image_write returns nothing) nor fill a
       NIfTI-2 header: convert the header and write it, a 4-byte empty extension flag and the data
       ourselves, checking every call and the close (where gzip flushes). */
    union { nifti_1_header h1; nifti_2_header h2; } h;
    size_t hsize;
    if (version == 2) {
        if (nifti_convert_nim2n2hdr(nim, &h.h2) != 0) { nifti_image_free(nim); return -3; }
        h.h2.vox_offset = 544;
        hsize = sizeof(h.h2);
    } else {
        if (nifti_convert_nim2n1hdr(nim, &h.h1) != 0) { nifti_image_free(nim); return -3; }
        h.h1.vox_offset = 352;
        hsize = sizeof(h.h1);
    }
    znzFile fp = znzopen(path, "wb", nifti_is_gzfile(path));
    if (znz_isnull(fp)) { *os_error = errno; nifti_image_free(nim); return -4; }
    char ext[4] = {0, 0, 0, 0};
    int ok = znzwrite(&h, hsize, 1, fp) == 1 && znzwrite(ext, 1, 4, fp) == 4
          && znzwrite(nim->data, (size_t)nim->nbyper, (size_t)nim->nvox, fp) == (size_t)nim->nvox;
    if (!ok) *os_error = errno;
    int closed = Xznzclose(&fp);
    if (ok && closed != 0) *os_error = errno;
    nifti_image_free(nim);
    return ok && closed == 0 ? 0 : -5;
}
