// swift-tools-version:6.0
import PackageDescription

// SwinLiver: Swin UNETR liver CT pipeline on any OpenCL device.
// Data flow: kernels/*.cl → Kernels (backends, raw ops) → Autograd (tape) → Models → TrainingLoop → Train (segmentation) / Classification → swinliver (CLI).
let package = Package(
    name: "SwinLiver",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swinliver", targets: ["swinliver"]),
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "Models", targets: ["Models"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C headers: OpenCL + CLBlast (GPU path) and OpenBLAS's cblas.h (CPU reference GEMM).
        .systemLibrary(name: "COpenCL", path: "Sources/COpenCL"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        // zlib's gz* API: NIfTI data read (and its gzip CRC checked) in Swift.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // libnifti behind a small C API (its headers live in /usr/include/nifti on Debian).
        .target(name: "CNIfTI", cSettings: [.unsafeFlags(["-I/usr/include/nifti"])],
                linkerSettings: [.linkedLibrary("nifti2"), .linkedLibrary("znz"), .linkedLibrary("z"), .linkedLibrary("m")]),
        // libpng behind three C functions (16-bit grayscale slices, RGB overlays), errors caught in C.
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png"), .linkedLibrary("z")]),
        // The seeded generator shared by every random choice.
        .target(name: "SeededRandom"),
        // Tensors, the Backend protocol and its CPU and OpenCL implementations.
        // Optimised in debug builds too: the CPU reference loops (SIMD in the fused attention) are what
        // the test suite runs, and unoptimised generic SIMD code is hundreds of times slower.
        .target(name: "Kernels", dependencies: ["COpenCL", "CBLAS"],
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Reverse-mode autograd over the Kernels ops.
        .target(name: "Autograd", dependencies: ["Kernels"]),
        // Outputs written whole or not at all: temporary file, fsync, rename.
        .target(name: "AtomicFile"),
        // safetensors reader/writer (weights and golden files).
        .target(name: "SafeTensors", dependencies: ["AtomicFile"]),
        // 3D medical volumes: NIfTI-1/2 I/O through libnifti (preprocessing follows).
        .target(name: "Volumes", dependencies: ["AtomicFile", "CNIfTI", "CZlib", "SeededRandom"]),
        // Segmentation and classification metrics (MONAI / medpy / scikit-learn definitions), bootstrap CIs.
        .target(name: "Metrics", dependencies: ["AtomicFile", "SeededRandom"]),
        // Layers and networks built from Autograd ops.
        .target(name: "Models", dependencies: ["Kernels", "Autograd", "SafeTensors", "SeededRandom"]),
        // What every trainer shares: AdamW over a parameter arena, the warm-up + cosine schedule, the epoch loop with
        // atomic checkpoints and exact resume, the run log, the training errors.
        .target(name: "TrainingLoop", dependencies: ["AtomicFile", "Kernels", "Models", "SafeTensors"]),
        // Tumour-type classification: slices through the largest tumour, PNG export, the Inception-v3 trainer.
        .target(name: "Classification", dependencies: ["AtomicFile", "Volumes", "CPNG", "Kernels", "Autograd", "Models", "SafeTensors", "SeededRandom",
                                                       "Metrics", "TrainingLoop"]),
        // Segmentation: self-supervised pretraining, fine-tuning, sliding-window inference.
        .target(name: "Train", dependencies: ["AtomicFile", "Kernels", "Autograd", "Models", "SafeTensors", "SeededRandom", "Volumes", "Metrics",
                                              "TrainingLoop"]),
        // The pipelines the commands run: the demo, scoring held-out cases, the per-case report of `run`.
        .target(name: "Pipeline", dependencies: ["AtomicFile", "Kernels", "Models", "Train", "TrainingLoop", "Volumes", "Metrics", "Classification",
                                                 "SafeTensors"]),
        .executableTarget(
            name: "swinliver",
            dependencies: [
                "AtomicFile", "Kernels", "Autograd", "Models", "Train", "TrainingLoop", "Volumes", "Metrics", "Classification", "Pipeline", "SafeTensors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "swinliver-fuzz", dependencies: ["SeededRandom"], path: "Sources/swinliver-fuzz", swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "TestSupport", dependencies: ["Kernels", "SafeTensors", "SeededRandom"], path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "SafeTensors", "TestSupport"]),
        // Runs the built `swinliver` binary (make test builds it first).
        .testTarget(name: "CLITests", dependencies: ["Metrics", "Volumes", "SafeTensors", "Classification", "TestSupport"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "SafeTensors", "SeededRandom", "TestSupport"]),
        .testTarget(name: "VolumesTests", dependencies: ["AtomicFile", "Volumes", "SafeTensors", "SeededRandom", "TestSupport"]),
        .testTarget(name: "AutogradTests", dependencies: ["Kernels", "Autograd", "TestSupport"]),
        .testTarget(name: "ClassificationTests", dependencies: ["Classification", "Metrics", "Volumes", "SafeTensors", "SeededRandom", "Kernels", "TrainingLoop",
                                                             "TestSupport"]),
        .testTarget(name: "TrainTests", dependencies: ["Kernels", "Autograd", "Models", "SafeTensors", "SeededRandom", "Train", "TrainingLoop",
                                                    "Volumes", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Autograd", "Classification", "Kernels", "Metrics", "Models", "SafeTensors", "Volumes", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Kernels", "Autograd", "Models", "SafeTensors", "Train", "TrainingLoop", "TestSupport"]),
    ]
)
