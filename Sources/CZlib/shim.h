// zlib's gz* stream API, for reading .nii/.nii.gz with every call's result checked (Debian: zlib1g-dev).
#include <zlib.h>
