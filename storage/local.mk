# storage/ sources and tests
libqcstorage_a_SOURCES += \
	storage/storage.h \
	storage/img.c
