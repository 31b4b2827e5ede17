// Closes the region opened by avx512_vnni_begin.h. No include guard (see there).
#pragma GCC diagnostic pop
#pragma GCC pop_options
