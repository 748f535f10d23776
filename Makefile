# SwinLiver: `make test` and `make demo` do everything on a fresh Debian/Ubuntu machine.
SWIFT ?= swift
RELEASE_FLAGS = -c release -Xswiftc -enforce-exclusivity=unchecked

.PHONY: all setup kernels build release test demo bench fuzz clean

all: build

setup:
	scripts/setup

# Re-embed kernels/*.cl into Sources/Kernels/Generated/KernelSources.swift (no-op when current).
kernels:
	scripts/embed-kernels

build: setup kernels
	$(SWIFT) build

release: setup kernels
	$(SWIFT) build $(RELEASE_FLAGS) --product swinliver

# Every test on both backends; OpenCL must be present (PoCL on a CPU-only machine). Ends with a summary
# that names anything skipped (missing OpenCL device or reference files) as a PARTIAL run.
# The kernel suites run first on Oclgrind (a simulated GPU-like device that reports out-of-bounds accesses,
# races and barrier divergence): any report fails.
test: setup kernels
	$(SWIFT) build --build-tests
	scripts/oclgrind-tests
	OPENCL_REQUIRED=1 scripts/run-tests

# Synthetic cohort → pretrain → fine-tune (SSL vs baseline) → segment → evaluate → tumour type (5-fold CV from
# ground-truth and predicted masks) → run reports → real scans; runs/demo/summary.json.
demo: release
	.build/release/swinliver devices
	.build/release/swinliver demo --out runs/demo

bench: release
	.build/release/swinliver bench ops

# Hostile input: ≥ 10,000 structured edge cases and seeded mutations through every reader and entry point of the
# release binary (each under 20 s and 3 GiB of address space); fails on any crash, hang, giant allocation or
# changed input. Regression cases in fuzz/regressions.txt run first; failing inputs go to runs/fuzz/failures/.
FUZZ_CASES ?= 10000
FUZZ_SEED ?= 1
fuzz: release
	$(SWIFT) build $(RELEASE_FLAGS) --product swinliver-fuzz
	.build/release/swinliver-fuzz --binary .build/release/swinliver --cases $(FUZZ_CASES) --seed $(FUZZ_SEED) --jobs 2 \
		--report runs/fuzz/report.json

clean:
	rm -rf .build
