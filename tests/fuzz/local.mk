# tests/fuzz/: libFuzzer harnesses for every parser.
#
# Nothing here is built by `make`, `make check` or with gcc: the harnesses
# need clang's libFuzzer, so they have their own configure-free targets that
# work in any build directory (FUZZ_CC defaults to clang whatever CC is):
#
#   make fuzz                      build tests/fuzz/fuzz-* (ASan + UBSan + libFuzzer)
#   make fuzz-smoke                run each harness for FUZZ_SECONDS (default 60)
#   make -j2 -k fuzz-smoke         two at a time (what tools/test / CI runs)
#   make fuzz-run-xml FUZZ_SECONDS=600  one harness, longer
#
# The library sources are compiled again into tests/fuzz/obj/ with coverage
# instrumentation (-fsanitize=fuzzer-no-link), so the normal objects are
# untouched.  Each run starts from the committed seeds in
# $(srcdir)/tests/fuzz/corpus/NAME (read-only) and keeps what it finds in
# tests/fuzz/work/NAME in the build directory; crashes land in
# tests/fuzz/crash/NAME/ and fail the target.  tests/fuzz/NAME.dict, when there
# is one, is passed as -dict (the XML and QMP/JSON vocabulary).
FUZZ_HARNESSES = qmp xml simplestreams seed size spec iso json term dcache
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_JOBS_FLAGS =
FUZZ_FLAGS = -timeout=20 -rss_limit_mb=2560 -max_len=65536 -print_final_stats=1
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_COMPILE = $(FUZZ_CC) -std=gnu11 -g -O1 -Wall $(FUZZ_SAN) $(DEFS) -I. -I$(top_builddir) \
	-I$(top_srcdir) $(AM_CPPFLAGS) $(CPPFLAGS) $(QC_DEP_CFLAGS)
FUZZ_LIB_SRCS = $(filter %.c,$(libqcutil_a_SOURCES) $(libqcqmp_a_SOURCES) \
	$(libqcstorage_a_SOURCES) $(libqccloudinit_a_SOURCES) $(libqcnet_a_SOURCES) \
	$(libqcdriver_a_SOURCES))
FUZZ_LIB_OBJS = $(patsubst %.c,tests/fuzz/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_PROGS = $(patsubst %,tests/fuzz/fuzz-%,$(FUZZ_HARNESSES))

EXTRA_DIST += tests/README.md tests/fuzz/fuzz.h tests/fuzz/report-finding tests/fuzz/xml.dict tests/fuzz/qmp.dict tests/fuzz/json.dict $(patsubst %,tests/fuzz/fuzz-%.c,$(FUZZ_HARNESSES)) \
	tests/fuzz/corpus

.PHONY: fuzz fuzz-smoke fuzz-clean $(patsubst %,fuzz-run-%,$(FUZZ_HARNESSES))
fuzz: $(FUZZ_PROGS)

tests/fuzz/obj/%.o: $(top_srcdir)/%.c
	@mkdir -p $(@D)
	$(AM_V_CC)$(FUZZ_COMPILE) -MMD -MP -fsanitize=fuzzer-no-link -c -o $@ $<

# Header dependencies of the instrumented objects (a changed header rebuilds them).
-include $(wildcard tests/fuzz/obj/*/*.d tests/fuzz/obj/*/*/*.d)

tests/fuzz/libqcfuzz.a: $(FUZZ_LIB_OBJS)
	$(AM_V_AR)rm -f $@ && $(AR) cr $@ $(FUZZ_LIB_OBJS) && $(RANLIB) $@

tests/fuzz/fuzz-%: $(top_srcdir)/tests/fuzz/fuzz-%.c $(top_srcdir)/tests/fuzz/fuzz.h \
		tests/fuzz/libqcfuzz.a
	@mkdir -p $(@D)
	$(AM_V_CCLD)$(FUZZ_COMPILE) -fsanitize=fuzzer -o $@ $< tests/fuzz/libqcfuzz.a \
		$(QC_DEP_LIBS) -lpthread

# fuzz-run-NAME: one harness for FUZZ_SECONDS; the summary line keeps the
# number of executions for tests/README.md.
$(patsubst %,fuzz-run-%,$(FUZZ_HARNESSES)): fuzz-run-%: tests/fuzz/fuzz-%
	@mkdir -p tests/fuzz/work/$* tests/fuzz/crash/$*
	@echo "fuzz-$*: $(FUZZ_SECONDS) s"
	@cd tests/fuzz/crash/$* && \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	$(abs_top_builddir)/tests/fuzz/fuzz-$* $(FUZZ_FLAGS) $(FUZZ_JOBS_FLAGS) \
		$$(test -f $(abs_top_srcdir)/tests/fuzz/$*.dict && echo -dict=$(abs_top_srcdir)/tests/fuzz/$*.dict) \
		-max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(abs_top_builddir)/tests/fuzz/crash/$*/ \
		$(abs_top_builddir)/tests/fuzz/work/$* $(abs_top_srcdir)/tests/fuzz/corpus/$* \
		>$(abs_top_builddir)/tests/fuzz/work/$*.log 2>&1 || \
		{ $(SHELL) $(abs_top_srcdir)/tests/fuzz/report-finding $* \
			$(abs_top_builddir)/tests/fuzz/work/$*.log \
			$(abs_top_builddir)/tests/fuzz/crash/$*; exit 1; }
	@grep -E '^stat::number_of_executed_units' tests/fuzz/work/$*.log | \
		sed 's/^stat::number_of_executed_units: */fuzz-$*: executions: /'

# Every harness, FUZZ_SECONDS each; `make -j2 -k fuzz-smoke` runs two at a
# time and still runs the rest after a finding.
fuzz-smoke: $(patsubst %,fuzz-run-%,$(FUZZ_HARNESSES))

fuzz-clean:
	rm -rf tests/fuzz/obj tests/fuzz/libqcfuzz.a tests/fuzz/work tests/fuzz/crash $(FUZZ_PROGS)
clean-local: fuzz-clean

# The bad-input catalogue: >= 60 bad inputs across the CLI,
# exact exit codes and messages, state root unchanged byte for byte.
TESTS += tests/integration/bad-inputs.sh
dist_noinst_SCRIPTS += tests/integration/bad-inputs.sh

# Leak check of qemuctl itself on a kernel-boot VM's whole life (not in TESTS:
# it needs valgrind and a gcc or -gdwarf-4 build).
dist_noinst_SCRIPTS += tests/fuzz/valgrind-cli.sh
.PHONY: check-valgrind-cli
check-valgrind-cli: qemuctl qemuctl-monitor
	$(TESTS_ENVIRONMENT) $(top_srcdir)/tests/fuzz/valgrind-cli.sh
