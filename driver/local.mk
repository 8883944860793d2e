# driver/: domain model, XML, argv, state, lifecycle, public API, CLI, monitor
include_HEADERS += driver/qemuctl.h
