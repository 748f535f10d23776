# SwinLiver: `make test` and `make demo` do everything on a fresh Debian/Ubuntu machine.
SWIFT ?= swift
RELEASE_FLAGS = -c release -Xswiftc -enforce-exclusivity=unchecked

.PHONY: all setup kernels build release test demo bench clean

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
test: setup kernels
	$(SWIFT) build --build-tests
	OPENCL_REQUIRED=1 scripts/run-tests

# Synthetic cohort → pretrain → fine-tune (SSL vs baseline) → segment → evaluate; runs/demo/summary.json.
demo: release
	.build/release/swinliver devices
	.build/release/swinliver demo --out runs/demo

bench: release
	.build/release/swinliver bench ops

clean:
	rm -rf .build
