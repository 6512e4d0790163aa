# vigil — build, test, install, demo.
#
#   make            build vigild and the test tools into build/
#   make check      every unit (Check) and end-to-end test, plain and under
#                   AddressSanitizer + UndefinedBehaviorSanitizer (-Werror)
#   make check-all  check, then everything under valgrind memcheck, a short
#                   fuzzing pass and the package round trip (CI runs this)
#   make demo       run vigild against the bundled portal simulator
#   make bench      benchmarks side by side with Monit, blackbox_exporter and
#                   nginx (installs them itself; writes bench/RESULTS.md)
#   make deps       install the Debian packages building and testing need
#   make build-deps only those building (and make deb) need
#   make install    PREFIX=/usr/local DESTDIR=  (binaries, unit, man pages,
#                   and etc/vigil.json unless one is there already)
#   make deb        the Debian package, built in build/deb/
#
# SANITIZE=address,undefined builds into build/san with the sanitizers on.

# "make" alone builds; targets defined further down must not take over.
.DEFAULT_GOAL := all

VERSION  := 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
UNITDIR  ?= $(PREFIX)/lib/systemd/system
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/vigil
DESTDIR  ?=

CC       ?= cc
PKGS     := libevent libevent_openssl openssl libcurl libmicrohttpd libpq libcjson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wwrite-strings \
            -Wformat=2 -Wvla -Wundef -Wnull-dereference
# Warnings are errors in developer builds (make check sets DEVELOPER=1),
# never in the package build: a distribution's newer compiler may warn
# about something new, and that must not break the package.
ifneq ($(DEVELOPER),)
  WARN += -Werror
endif
# VIGIL_ASSERT() aborts in developer, sanitizer and fuzzing builds, and is
# compiled out of the package build (lib/base/assert.h says why).
ifneq ($(DEVELOPER)$(SANITIZE)$(FUZZ),)
  CPPFLAGS += -DVIGIL_CHECKED
endif
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) \
              -DVIGIL_VERSION='"$(VERSION)"' -iquote lib $(PKG_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lm -lpthread

ifneq ($(FUZZ),)
  # libFuzzer needs clang; the library is instrumented, the targets link
  # the fuzzer's main.
  B := build/fuzz
  ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
else ifneq ($(SANITIZE),)
  B := build/san
  ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -O1
  LDFLAGS += -fsanitize=$(SANITIZE)
else
  B := build
endif

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/%.o)
SIM_SRC  := $(sort $(wildcard tests/sim/*.c))
SIM_OBJ  := $(SIM_SRC:%.c=$(B)/%.o)

# vigilctl: its main, then one file per group of commands (ctl_*.c).
CTL_SRC  := daemon/vigilctl.c daemon/client.c $(sort $(wildcard daemon/ctl_*.c))
CTL_OBJ  := $(CTL_SRC:%.c=$(B)/%.o)

PROGS := $(B)/vigild $(B)/vigilctl $(B)/portal-sim $(B)/check-unit

# Fuzzing: libFuzzer targets in tests/fuzz/, run for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := config jsonptr jsonpath sentry rules api pg_norm expr dnsmsg \
	template tzfile http1

$(B)/fuzz_%: tests/fuzz/fuzz_%.c $(B)/libvigil.a
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ \
	    $(LDLIBS)

fuzz:
	$(MAKE) FUZZ=1 CC=clang $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: all check check-all check-deb check-boot nspawn-root check-unit check-e2e check-plain check-san check-valgrind \
        demo deps build-deps \
        install clean lint deb bench soak

all: $(B)/vigild $(B)/vigilctl $(B)/portal-sim

# Objects remember the flags that built them: after "make demo" (no
# DEVELOPER), "make check" must rebuild with -Werror and VIGIL_ASSERT on,
# not test what the demo built. $(B)/.flags changes only when they do.
comma := ,
FLAGS_NOW := $(subst $(comma),;,$(CC) $(ALL_CFLAGS) $(LDFLAGS))
FLAGS_OLD := $(file <$(B)/.flags)
ifneq ($(FLAGS_OLD),$(FLAGS_NOW))
  $(shell mkdir -p $(B))
  $(file >$(B)/.flags,$(FLAGS_NOW))
endif

$(B)/%.o: %.c $(B)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# Rebuilt whole: ar never drops members, so an object whose source is gone
# would otherwise linger in the archive.
$(B)/libvigil.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/vigild: $(B)/daemon/vigild.o $(B)/libvigil.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/vigilctl: $(CTL_OBJ) $(B)/libvigil.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/portal-sim: $(SIM_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread

$(B)/tests/unit/%.o: tests/unit/%.c $(B)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote daemon $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

# The unit build counts vigil's own heap blocks (tests/unit/alloc_count.h).
ALLOC_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup \
              -Wl,--wrap=strndup

$(B)/check-unit: $(UNIT_OBJ) $(B)/daemon/client.o $(B)/libvigil.a
	$(CC) $(LDFLAGS) $(ALLOC_WRAP) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(SIM_OBJ:.o=.d) $(CTL_OBJ:.o=.d) \
    $(B)/daemon/vigild.d

# The test runs: unit tests, then the end-to-end suite against the real
# binaries. check-plain and check-san run them on the two builds.
check-unit: $(B)/check-unit
	CK_DEFAULT_TIMEOUT=30 $(B)/check-unit

# E2E_JOBS modules at once (tests/e2e/run.py -j): they mostly wait on
# vigild's intervals, so the pass takes a fraction of the time. The
# valgrind pass runs one at a time (memcheck keeps the cores busy).
E2E_JOBS ?= 3
check-e2e: $(B)/vigild $(B)/vigilctl $(B)/portal-sim
	VIGIL_BUILD=$(B) python3 tests/e2e/run.py -j $(E2E_JOBS)

check-plain:
	$(MAKE) check-unit check-e2e

check-san:
	$(MAKE) SANITIZE=address,undefined check-unit check-e2e

# The unit suite under valgrind memcheck, in one process (CK_FORK=no) so
# leaks count: it sees inside uninstrumented libraries (libevent, libpq,
# curl) where ASan cannot, and check_token.c asks it whether the token
# comparison decides anything on the secret's bytes.
# Then the end-to-end suite with every vigild under memcheck
# (VIGIL_VALGRIND=1, tests/e2e/harness.py), judged by memcheck's reports:
# a memory error, a definite or indirect leak or a crash fails the pass; a
# deadline missed in memcheck's slowdown is listed (docs/testing.md).
check-valgrind: $(B)/check-unit $(B)/vigild $(B)/vigilctl $(B)/portal-sim
	CK_FORK=no valgrind -q --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect $(B)/check-unit
	VIGIL_BUILD=$(B) VIGIL_VALGRIND=1 python3 tests/e2e/run.py

# deps first, then a fresh make: pkg-config flags are read when make starts,
# so on a new machine they must be read after the packages are installed.
# check is the everyday loop (the README's test command): every unit and
# end-to-end test on the plain build and under ASan/UBSan. check-all (CI,
# .ci/run) adds valgrind, the fuzzing pass and the package round trip,
# once. Both build with DEVELOPER=1 (-Werror) and fail on any skip.
check: deps lint
	$(MAKE) -j2 DEVELOPER=1 all build/check-unit
	$(MAKE) DEVELOPER=1 check-plain
	$(MAKE) -j2 DEVELOPER=1 SANITIZE=address,undefined all build/san/check-unit
	$(MAKE) DEVELOPER=1 check-san
	@echo "make check: all suites passed"

check-all: check
	$(MAKE) DEVELOPER=1 check-valgrind
	$(MAKE) DEVELOPER=1 fuzz FUZZ_SECONDS=10
	$(MAKE) check-deb
	$(MAKE) check-boot
	@echo "make check-all: all suites passed"

# The package round trip: make deb, lintian, dpkg -i, -r, --purge (as
# root). Once, whatever the build flavour: it builds its own binaries.
check-deb:
	VIGIL_BUILD=build VIGIL_DEB=1 python3 tests/e2e/run.py test_package.py

# The container's root directory (see nspawn-root below).
NSPAWN_ROOT ?= build/nspawn-root
NSPAWN_PKGS := systemd,systemd-sysv,libcjson1,libcurl4,libevent-2.1-7,libevent-openssl-2.1-7,libssl3,libmicrohttpd12,libpq5,zlib1g,procps

# The package booted under systemd in a container (tests/e2e/test_boot.py,
# as root): the .deb of check-deb (made if missing) in a minimal Debian 12.
check-boot: $(NSPAWN_ROOT)/etc/os-release
	ls build/deb/vigil_*.deb >/dev/null 2>&1 || $(MAKE) deb
	VIGIL_BUILD=build VIGIL_BOOT=1 VIGIL_NSPAWN_ROOT=$(NSPAWN_ROOT) \
	    python3 tests/e2e/run.py test_boot.py

# That container's root: debootstrap's minbase (what a minimal Debian 12
# has), systemd, and the package's run-time dependencies, which apt would
# install with it. Downloaded once from the Debian mirror (provisioning,
# like make deps); the test boots a copy of it, so it stays clean.
nspawn-root: $(NSPAWN_ROOT)/etc/os-release

$(NSPAWN_ROOT)/etc/os-release:
	rm -rf $(NSPAWN_ROOT) $(NSPAWN_ROOT).tmp
	mkdir -p -m 0755 $(NSPAWN_ROOT).tmp
	debootstrap --variant=minbase --include=$(NSPAWN_PKGS) bookworm \
	    $(NSPAWN_ROOT).tmp http://deb.debian.org/debian
	mv $(NSPAWN_ROOT).tmp $(NSPAWN_ROOT)

# Banned functions (as in curl's checksrc): each has a bounded or checked
# replacement that the code base uses instead.
lint:
	@if grep -nE '\b(atoi|atol|sprintf|vsprintf|strcpy|strcat|strtok|gets)\s*\(' \
	    lib/*/*.c lib/*/*.h daemon/*.c daemon/*.h \
	    tests/sim/*.c; then \
	  echo "lint: banned function used (see above)"; exit 1; fi
	@# The include rule of DESIGN.md's layout, and a test that it bites.
	python3 tests/lint/layers.py
	python3 -m unittest -q tests/lint/test_layers.py

demo: deps
	$(MAKE) all
	tests/demo.sh $(B)

# A bounded soak (tests/soak/soak.py): every simulator scenario, reloads,
# reads and notifications for SOAK_SECS (default 300); fails when RSS or
# descriptors grow after the warm-up. Not part of check.
soak: $(B)/vigild $(B)/portal-sim
	VIGIL_BUILD=$(B) python3 tests/soak/soak.py

# Benchmarks (bench/run installs Monit, blackbox_exporter, wrk and nginx
# itself; about 6 minutes). Not part of check.
bench: deps
	$(MAKE) all
	bench/run

# Debian packages. BUILD_DEPS is what `make` and `make deb` need: debian/
# control's Build-Depends plus build-essential and fakeroot, which
# dpkg-buildpackage takes for granted (tests/e2e/test_package.py checks that
# this list covers Build-Depends). TEST_DEPS is what the tests and the demo
# add. Both install only what is missing; idempotent.
BUILD_DEPS := build-essential fakeroot debhelper dpkg-dev pkg-config \
            libevent-dev libcurl4-openssl-dev libmicrohttpd-dev libpq-dev \
            libcjson-dev zlib1g-dev libssl-dev
TEST_DEPS := check python3 curl ca-certificates mandoc man-db systemd \
            postgresql-15 prometheus-alertmanager prometheus chromium \
            openssl clang libclang-rt-14-dev valgrind mount util-linux \
            lintian debootstrap systemd-container python3-aiosmtpd tzdata
DEB_PKGS := $(BUILD_DEPS) $(TEST_DEPS)

deps:
	@tests/deps.sh $(DEB_PKGS)

build-deps:
	@tests/deps.sh $(BUILD_DEPS)

# The unit is generated so that its ExecStart= names the vigild installed
# here, whatever PREFIX is.
install: $(B)/vigild $(B)/vigilctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/vigil \
	           $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man5 \
	           $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BINDIR) \
	           $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/grafana \
	           $(DESTDIR)$(DATADIR)/prometheus
	install -m 0755 $(B)/vigild $(DESTDIR)$(SBINDIR)/vigild
	install -m 0755 $(B)/vigilctl $(DESTDIR)$(BINDIR)/vigilctl
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/vigil.service.in > $(B)/vigil.service
	install -m 0644 $(B)/vigil.service $(DESTDIR)$(UNITDIR)/vigil.service
	install -m 0644 man/vigild.8 $(DESTDIR)$(MANDIR)/man8/vigild.8
	install -m 0644 man/vigilctl.1 $(DESTDIR)$(MANDIR)/man1/vigilctl.1
	install -m 0644 man/vigil.json.5 $(DESTDIR)$(MANDIR)/man5/vigil.json.5
	install -m 0644 contrib/grafana/vigil.json $(DESTDIR)$(DATADIR)/grafana/vigil.json
	install -m 0644 contrib/prometheus/vigil-rules.yml \
	    $(DESTDIR)$(DATADIR)/prometheus/vigil-rules.yml
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.json ]; then \
	  echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.json"; \
	else \
	  install -m 0644 etc/vigil.json $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.json; \
	fi

# dpkg-buildpackage works in a copy of the tree under build/deb, so none
# of its files land in the work tree; the package is build/deb/vigil_*.deb.
deb: build-deps
	rm -rf build/deb
	mkdir -p build/deb/vigil-$(VERSION)
	tar -c --exclude=./build --exclude=./.git --exclude=__pycache__ . | \
	    tar -x -C build/deb/vigil-$(VERSION)
	cd build/deb/vigil-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls build/deb/*.deb

clean:
	rm -rf build
