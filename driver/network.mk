# driver/network.mk
