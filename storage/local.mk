# storage/ sources and tests
libqcstorage_a_SOURCES += \
	storage/storage.h \
	storage/img.c \
	storage/sha256.c \
	storage/decompress.c \
	storage/simplestreams.c \
	storage/http.c \
	storage/catalog.c \
	storage/import.c \
	storage/sync.c
