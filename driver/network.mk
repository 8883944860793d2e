# driver/network.mk: named networks, NICs of VMs (leases, taps, host ports), ssh
libqcdriver_a_SOURCES += driver/network.h driver/network.c driver/network_nic.c \
	driver/network_ssh.c
qemuctl_SOURCES += driver/cli/cmd_net.h
