# The front door. `make check` sets up a fresh Debian 12 machine (as root
# it installs what is missing; otherwise it prints the apt-get line), then
# builds with warnings as errors and runs the tests.

BUILD ?= build
SAN_BUILD ?= build-sanitize
COV_BUILD ?= build-coverage
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 10
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CC ?= cc

# Debian packages the build and the tests need. The interop suite also
# needs postfix (a private instance; installed with "No configuration"),
# sasl2-bin (saslpasswd2 for its SASL accounts) and nodejs with npm (for
# nodemailer's smtp-server, installed from npm by the tests).
DEB_PACKAGES = build-essential cmake pkg-config libuv1-dev libssl-dev \
               libcmocka-dev python3-aiosmtpd openssl \
               postfix sasl2-bin nodejs npm
DEB_PACKAGES_FUZZ = clang libclang-rt-14-dev
DEB_PACKAGES_COVERAGE = gcovr
DEB_PACKAGES_VALGRIND = valgrind

# memcheck for `make valgrind`: any error, or a definite leak, fails.
VALGRIND = valgrind --quiet --error-exitcode=99 --leak-check=full \
           --show-leak-kinds=definite --errors-for-leak-kinds=definite

.PHONY: all check demo deps build test sanitize valgrind fuzz fuzz-run coverage \
        format format-check install clean

all: build

deps:
	@scripts/ensure-packages $(DEB_PACKAGES)

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DASMTP_WERROR=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check: test

# The main job: asmtp-send with STARTTLS and AUTH against a local aiosmtpd.
demo: build
	@scripts/demo $(BUILD)

# The integration tests' C programs, against their real servers, under
# valgrind's memcheck (the wrappers run them through ASMTP_TEST_WRAPPER),
# the fault matrix included (every cell's child process runs under it).
valgrind: build
	@scripts/ensure-packages $(DEB_PACKAGES_VALGRIND)
	cd $(BUILD) && ASMTP_TEST_WRAPPER="$(VALGRIND)" \
	    ctest --output-on-failure -L integration -j $(JOBS) --timeout 600

# Built with clang, so that one of the two runs checks clang's warnings.
sanitize: deps
	@scripts/ensure-packages $(DEB_PACKAGES_FUZZ)
	cmake -S . -B $(SAN_BUILD) -DCMAKE_C_COMPILER=clang -DASMTP_WERROR=ON \
	    -DASMTP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

fuzz: deps
	@scripts/ensure-packages $(DEB_PACKAGES_FUZZ)
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang \
	    -DASMTP_FUZZ=ON -DASMTP_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug \
	    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -O1"
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Each target for FUZZ_SECONDS on a scratch copy of its seed corpus.
fuzz-run: fuzz
	@scripts/fuzz-run $(FUZZ_BUILD) $(FUZZ_SECONDS)

coverage: deps
	@scripts/ensure-packages $(DEB_PACKAGES_COVERAGE)
	cmake -S . -B $(COV_BUILD) -DASMTP_COVERAGE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(COV_BUILD) -j $(JOBS)
	cd $(COV_BUILD) && ctest --output-on-failure -j $(JOBS)
	gcovr --root . --filter 'src/' --object-directory $(COV_BUILD) \
	    --print-summary --txt $(COV_BUILD)/coverage.txt \
	    --fail-under-line 90
	@cat $(COV_BUILD)/coverage.txt

format:
	clang-format -i include/*.h include/asmtp/*.h src/*.c src/*.h \
	    tests/unit/*.c tests/unit/*.h fuzz/*.c examples/*.c

format-check:
	clang-format --dry-run -Werror include/*.h include/asmtp/*.h src/*.c \
	    src/*.h tests/unit/*.c tests/unit/*.h fuzz/*.c examples/*.c

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(COV_BUILD) $(FUZZ_BUILD)
