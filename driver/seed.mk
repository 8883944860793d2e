# driver/seed.mk
