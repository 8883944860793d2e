# qmp/: the QMP client (qmp.h is the folder's one internal header)
libqcqmp_a_SOURCES += qmp/qmp.h qmp/io.c qmp/command.c
