// Lossless PNG writing and reading through libpng, with libpng's longjmp error handling kept in C.
#include "cpng.h"
#include <png.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(char *error, size_t size, const char *what, const char *path) {
    if (error && size) snprintf(error, size, "%s: %s", path, what);
}

// libpng's message goes into the caller's buffer (its error pointer), not stderr; then back to the
// caller's setjmp.
static void on_error(png_structp png, png_const_charp message) {
    char *buffer = png_get_error_ptr(png);
    if (buffer) snprintf(buffer, 256, "%s", message);
    png_longjmp(png, 1);
}
static void on_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

static int write_png(const char *path, uint32_t width, uint32_t height, int bit_depth, int color_type, int interlace,
                     const void *data, size_t row_bytes, int swap16, char *error, size_t error_size) {
    char message[256] = "libpng write error";
    FILE *f = fopen(path, "wb");
    if (!f) { fail(error, error_size, "cannot open for writing", path); return -1; }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, message, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { fclose(f); fail(error, error_size, "libpng could not start", path); return -1; }
    png_bytep volatile row = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        fail(error, error_size, message, path);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, width, height, bit_depth, color_type, interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    row = malloc(row_bytes);
    if (!row) longjmp(png_jmpbuf(png), 1);
    for (uint32_t y = 0; y < height * (uint32_t)passes; ++y) {
        const uint8_t *src = (const uint8_t *)data + (size_t)(y % height) * row_bytes;
        if (swap16) {   // PNG stores 16-bit samples big-endian
            for (size_t i = 0; i + 1 < row_bytes; i += 2) {
                uint16_t v; memcpy(&v, src + i, 2);
                row[i] = (uint8_t)(v >> 8); row[i + 1] = (uint8_t)(v & 0xff);
            }
        } else {
            memcpy(row, src, row_bytes);
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (fflush(f) != 0) {
        snprintf(message, sizeof(message), "write failed: %s", strerror(errno));
        fclose(f);
        fail(error, error_size, message, path);
        return -1;
    }
    if (fclose(f) != 0) { snprintf(message, sizeof(message), "write failed: %s", strerror(errno)); fail(error, error_size, message, path); return -1; }
    return 0;
}

int cpng_write_gray(const char *path, uint32_t width, uint32_t height, int bit_depth, int interlace, const uint16_t *samples,
                    char *error, size_t error_size) {
    if (bit_depth == 16)
        return write_png(path, width, height, 16, PNG_COLOR_TYPE_GRAY, interlace, samples, (size_t)width * 2, 1, error, error_size);
    if (bit_depth != 8) { fail(error, error_size, "bit depth must be 8 or 16", path); return -1; }
    uint8_t *bytes = malloc((size_t)width * height);
    if (!bytes) { fail(error, error_size, "out of memory", path); return -1; }
    for (size_t i = 0; i < (size_t)width * height; ++i) bytes[i] = (uint8_t)(samples[i] > 255 ? 255 : samples[i]);
    int r = write_png(path, width, height, 8, PNG_COLOR_TYPE_GRAY, interlace, bytes, width, 0, error, error_size);
    free(bytes);
    return r;
}

int cpng_write_rgb8(const char *path, uint32_t width, uint32_t height, const uint8_t *rgb, char *error, size_t error_size) {
    return write_png(path, width, height, 8, PNG_COLOR_TYPE_RGB, 0, rgb, (size_t)width * 3, 0, error, error_size);
}

int cpng_read_gray(const char *path, uint32_t *width, uint32_t *height, int *bit_depth, uint16_t *samples,
                   size_t capacity, char *error, size_t error_size) {
    char message[256] = "not a readable PNG";
    FILE *f = fopen(path, "rb");
    if (!f) { fail(error, error_size, "cannot open", path); return -1; }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, message, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { fclose(f); fail(error, error_size, "libpng could not start", path); return -1; }
    png_bytep volatile image = NULL;
    png_bytepp volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(image);
        free(rows);
        fclose(f);
        fail(error, error_size, message, path);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    *width = png_get_image_width(png, info);
    *height = png_get_image_height(png, info);
    *bit_depth = png_get_bit_depth(png, info);
    if (png_get_color_type(png, info) != PNG_COLOR_TYPE_GRAY || (*bit_depth != 8 && *bit_depth != 16)) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        fail(error, error_size, "not an 8- or 16-bit grayscale PNG", path);
        return -1;
    }
    if (samples) {
        if (capacity != (size_t)(*width) * (*height)) {
            png_destroy_read_struct(&png, &info, NULL);
            fclose(f);
            fail(error, error_size, "image size changed between reads", path);
            return -1;
        }
        /* Adam7-interlaced files need every pass combined: libpng does it into whole rows. */
        int passes = png_set_interlace_handling(png);
        png_read_update_info(png, info);
        size_t rb = png_get_rowbytes(png, info);
        image = malloc(rb * (*height));
        rows = malloc(sizeof(png_bytep) * (*height));
        if (!image || !rows) longjmp(png_jmpbuf(png), 1);
        for (uint32_t y = 0; y < *height; ++y) rows[y] = image + (size_t)y * rb;
        for (int pass = 0; pass < passes; ++pass)
            for (uint32_t y = 0; y < *height; ++y) png_read_row(png, rows[y], NULL);
        png_read_end(png, NULL);
        for (uint32_t y = 0; y < *height; ++y) {
            const png_bytep row = rows[y];
            for (uint32_t x = 0; x < *width; ++x)
                samples[(size_t)y * (*width) + x] = *bit_depth == 16 ? (uint16_t)((row[2 * x] << 8) | row[2 * x + 1]) : row[x];
        }
        free(image);
        free(rows);
    }
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return 0;
}
