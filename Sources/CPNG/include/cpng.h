#ifndef CPNG_H
#define CPNG_H
#include <stdint.h>
#include <stddef.h>

/// Writes a grayscale PNG (bit depth 8 or 16) of width × height samples (row-major; 16-bit samples in
/// host order), Adam7-interlaced when `interlace` is non-zero. Returns 0, or -1 with
/// a message in `error` (libpng's errors are caught here with setjmp, so they never unwind through Swift).
int cpng_write_gray(const char *path, uint32_t width, uint32_t height, int bit_depth, int interlace, const uint16_t *samples,
                    char *error, size_t error_size);

/// Writes an 8-bit RGB PNG (row-major RGBRGB...). Same return convention.
int cpng_write_rgb8(const char *path, uint32_t width, uint32_t height, const uint8_t *rgb, char *error, size_t error_size);

/// Reads a grayscale PNG's size and bit depth, and (when `samples` is not NULL; `capacity` must then be
/// exactly width × height) its samples widened to uint16, interlaced files included. Returns 0 or -1
/// with a message.
int cpng_read_gray(const char *path, uint32_t *width, uint32_t *height, int *bit_depth, uint16_t *samples,
                   size_t capacity, char *error, size_t error_size);
#endif
