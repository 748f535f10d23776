import COpenCL
import Foundation

/// Builds each kernels/<program>.cl once per device and keeps the cl_program in memory; the
/// compiled binaries also go to disk, keyed by device, driver, options and source hash, so the
/// next process skips the compiler. Sources come from the binary (Generated/KernelSources.swift)
/// or, for kernel development, from `SWINLIVER_KERNEL_DIR`.
final class ProgramCache {
    private let handle: CLContextHandle
    private var context: cl_context { handle.context }
    private var device: CLDeviceInfo { handle.device }
    private let options: String
    private let diskDirectory: URL?
    private let sourceDirectory: URL?
    /// By program name plus define set.
    private var programs: [String: cl_program] = [:]
    private var kernels: [KernelKey: cl_kernel] = [:]

    private struct KernelKey: Hashable {
        let name: KernelName
        let defines: KernelDefines
    }

    init(handle: CLContextHandle, options: String, diskDirectory: URL?, sourceDirectory: URL?) {
        self.handle = handle
        self.options = options
        self.diskDirectory = diskDirectory
        self.sourceDirectory = sourceDirectory
    }

    deinit {
        for k in kernels.values { clReleaseKernel(k) }
        for p in programs.values { clReleaseProgram(p) }
    }

    /// The kernel object for `name` in its program built with `defines`, building the program on first use.
    func kernel(_ name: KernelName, defines: KernelDefines = .none) throws -> cl_kernel {
        let key = KernelKey(name: name, defines: defines)
        if let k = kernels[key] { return k }
        let program = try self.program(name.program, defines: defines)
        var err: cl_int = 0
        guard let k = clCreateKernel(program, name.rawValue, &err) else {
            throw OpenCLError(code: err, call: "clCreateKernel", kernel: name.rawValue)
        }
        kernels[key] = k
        return k
    }

    func source(_ program: String) throws -> String {
        if let dir = sourceDirectory {
            return try String(contentsOf: dir.appendingPathComponent("\(program).cl"), encoding: .utf8)
        }
        guard let s = KernelSources.programs[program] else {
            throw KernelBuildError(program: program, options: options, log: "no embedded source")
        }
        return s
    }

    private func program(_ name: String, defines: KernelDefines) throws -> cl_program {
        let cacheKey = name + defines.options
        if let p = programs[cacheKey] { return p }
        let src = try source(name)
        let options = self.options + defines.options
        let key = fnv1a64("\(device.name)|\(device.driverVersion)|\(device.platform)|\(options)|\(src)")
        let file = diskDirectory?.appendingPathComponent("\(name)-\(String(key, radix: 16)).bin")
        if let file, let binary = try? Data(contentsOf: file), let p = try? buildFromBinary(binary, options: options) {
            programs[cacheKey] = p
            return p
        }
        let p = try buildFromSource(name, src, options: options)
        programs[cacheKey] = p
        if let file { saveBinary(p, to: file) }
        return p
    }

    private func buildFromSource(_ name: String, _ src: String, options: String) throws -> cl_program {
        var err: cl_int = 0
        let program: cl_program? = src.withCString { cstr in
            var ptr: UnsafePointer<CChar>? = cstr
            var length = strlen(cstr)
            return clCreateProgramWithSource(context, 1, &ptr, &length, &err)
        }
        guard let program else { throw OpenCLError(code: err, call: "clCreateProgramWithSource", kernel: name) }
        try build(program, name, options: options)
        return program
    }

    private func buildFromBinary(_ binary: Data, options: String) throws -> cl_program {
        var err: cl_int = 0, binStatus: cl_int = 0
        var dev: cl_device_id? = device.id
        var length = binary.count
        let program: cl_program? = binary.withUnsafeBytes { raw in
            var ptr: UnsafePointer<UInt8>? = raw.bindMemory(to: UInt8.self).baseAddress
            return clCreateProgramWithBinary(context, 1, &dev, &length, &ptr, &binStatus, &err)
        }
        guard let program, err == CL_SUCCESS, binStatus == CL_SUCCESS else {
            throw OpenCLError(code: err, call: "clCreateProgramWithBinary", kernel: nil)
        }
        try build(program, "cached binary", options: options)
        return program
    }

    private func build(_ program: cl_program, _ name: String, options: String) throws {
        var dev: cl_device_id? = device.id
        let status = clBuildProgram(program, 1, &dev, options, nil, nil)
        if status != CL_SUCCESS {
            let log = (try? infoString { clGetProgramBuildInfo(program, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2) }) ?? ""
            clReleaseProgram(program)
            throw KernelBuildError(program: name, options: options, log: log)
        }
    }

    /// Best effort: a cache that cannot be written only costs a rebuild next time.
    private func saveBinary(_ program: cl_program, to file: URL) {
        var size = 0
        guard clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
            == CL_SUCCESS, size > 0 else { return }
        var bytes = [UInt8](repeating: 0, count: size)
        let ok: Bool = bytes.withUnsafeMutableBufferPointer { buf in
            var ptr: UnsafeMutablePointer<UInt8>? = buf.baseAddress
            return clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARIES),
                                    MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &ptr, nil) == CL_SUCCESS
        }
        guard ok else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = file.appendingPathExtension("tmp\(getpid())")
        if (try? Data(bytes).write(to: tmp)) != nil { _ = rename(tmp.path, file.path) }
    }
}

/// FNV-1a, 64 bit: the disk cache key (no crypto needed, only change detection).
func fnv1a64(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}
