# storage/ sources and tests
libqcstorage_a_SOURCES += \
	storage/storage.h \
	storage/img.c \
	storage/sha256.c \
	storage/bounds.c \
	storage/decompress.c \
	storage/decompress_dl.c \
	storage/simplestreams.c \
	storage/debian.c \
	storage/http.c \
	storage/http_hash.c \
	storage/catalog.c \
	storage/import.c \
	storage/sync.c \
	storage/refs.c

# Pure: simplestreams selection, refs, arch names, qemu-img JSON, SHA-256,
# the image-user count of refs.c over a fake VM list,
# xz/gz decompression.
QC_CHECK_TESTS += tests/unit/check_storage
# Debian's cloud image tree: release names, SHA512SUMS parsing (pure).
QC_CHECK_TESTS += tests/unit/check_storage_debian
# qemu-img wrapper and the image catalog against the real qemu-img/qemu-io.
QC_CHECK_TESTS += tests/unit/check_storage_img
# libcurl is dlopen()ed by the first download: not loaded before, error text when missing.
QC_CHECK_TESTS += tests/unit/check_storage_http
# Image sync against tests/integration/httpd.py on 127.0.0.1 (Range resume,
# cuts, 404/500, bad SHA-256, malformed index, file:// streams, concurrency).
QC_CHECK_TESTS += tests/unit/check_storage_sync
# check_storage makes its .xz/.gz inputs with liblzma's and zlib's encoders,
# so it links both; libqcstorage.a itself dlopen()s them (decompress_dl.c).
tests_unit_check_storage_LDADD = $(QC_STORAGE_LIBS) $(LZMA_LIBS) $(ZLIB_LIBS) $(CHECK_LIBS)
tests_unit_check_storage_debian_LDADD = $(QC_STORAGE_LIBS) $(CHECK_LIBS)
tests_unit_check_storage_img_LDADD = $(QC_STORAGE_LIBS) $(CHECK_LIBS)
tests_unit_check_storage_http_LDADD = $(QC_STORAGE_LIBS) $(CHECK_LIBS)
tests_unit_check_storage_sync_LDADD = $(QC_STORAGE_LIBS) $(CHECK_LIBS)
EXTRA_DIST += tests/integration/httpd.py tests/integration/mkstream.py

# CLI-level: image sync against the loopback server, overlays and the catalog.
TESTS += tests/integration/image-sync.sh tests/integration/image-overlay.sh tests/integration/trust-import.sh
dist_noinst_SCRIPTS += tests/integration/image-sync.sh tests/integration/image-overlay.sh tests/integration/trust-import.sh
# liblzma and zlib loaded by the first .xz/.gz (storage/decompress_dl.c): not
# linked, a clear error when broken, no partial image.
TESTS += tests/integration/decompress-lazy.sh
dist_noinst_SCRIPTS += tests/integration/decompress-lazy.sh
# debian:RELEASE against a copy of Debian's cloud image tree layout (SHA512SUMS).
TESTS += tests/integration/image-sync-debian.sh
dist_noinst_SCRIPTS += tests/integration/image-sync-debian.sh
# log/events on a terminal show the guest's control sequences (util/term.c).
TESTS += tests/integration/trust-log.sh
dist_noinst_SCRIPTS += tests/integration/trust-log.sh

# bench/sync: image sync vs curl -o, overlay creation vs raw qemu-img create
# (bench/sync.sh BUILDDIR runs both).
noinst_PROGRAMS += bench/sync-overlay
bench_sync_overlay_SOURCES = bench/sync-overlay.c
bench_sync_overlay_LDADD = $(QC_STORAGE_LIBS)
dist_noinst_SCRIPTS += bench/sync.sh

# driver/image.c: create's helpers (arch check, --disk), what VMs rest on, image API.
QC_CHECK_TESTS += tests/unit/check_driver_image
tests_unit_check_driver_image_LDADD = $(QC_LIBS) $(CHECK_LIBS)
