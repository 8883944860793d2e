# driver/domain.mk: domain model, XML, argv, arch
