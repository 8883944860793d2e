# driver/image.mk
