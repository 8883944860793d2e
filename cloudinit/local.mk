# cloudinit/ sources and tests
