import COpenCL
import Foundation

/// One OpenCL device as `swinliver devices` lists it; `index` is its N in `--device opencl:N`
/// (devices of all platforms, numbered in platform order).
public struct CLDeviceInfo: @unchecked Sendable, CustomStringConvertible {
    public let index: Int
    public let platform: String
    public let name: String
    public let version: String
    public let driverVersion: String
    public let globalMemoryBytes: Int
    public let maxAllocationBytes: Int
    public let computeUnits: Int
    public let maxWorkGroupSize: Int
    /// CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: where a sub-buffer (a tensor view) may start.
    public let baseAddressAlignBytes: Int
    /// CL_DEVICE_TYPE_GPU (PoCL and other CPU drivers are not).
    public let isGPU: Bool
    let id: cl_device_id

    public var description: String {
        "opencl:\(index)  \(name)  [\(platform)]  \(mib(globalMemoryBytes)) MiB, \(computeUnits) compute units, \(version)"
    }
}

/// Enumerates every OpenCL device. No ICD or no platform yields an empty list, not an error.
public func listOpenCLDevices() throws -> [CLDeviceInfo] {
    var nPlatforms: cl_uint = 0
    let status = clGetPlatformIDs(0, nil, &nPlatforms)
    // -1001: CL_PLATFORM_NOT_FOUND_KHR (no ICD installed)
    if status == -1001 || nPlatforms == 0 { return [] }
    try check(status, "clGetPlatformIDs")
    var platforms = [cl_platform_id?](repeating: nil, count: Int(nPlatforms))
    try check(clGetPlatformIDs(nPlatforms, &platforms, nil), "clGetPlatformIDs")
    var result: [CLDeviceInfo] = []
    for case let platform? in platforms {
        let platformName = try infoString { clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2) }
        var n: cl_uint = 0
        let s = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &n)
        if s == CL_DEVICE_NOT_FOUND || n == 0 { continue }
        try check(s, "clGetDeviceIDs")
        var ids = [cl_device_id?](repeating: nil, count: Int(n))
        try check(clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), n, &ids, nil), "clGetDeviceIDs")
        for case let id? in ids {
            func str(_ p: Int32) throws -> String {
                try infoString { clGetDeviceInfo(id, cl_device_info(p), $0, $1, $2) }
            }
            func num<T: FixedWidthInteger>(_ p: Int32, _: T.Type) throws -> Int {
                var v: T = 0
                try check(clGetDeviceInfo(id, cl_device_info(p), MemoryLayout<T>.size, &v, nil), "clGetDeviceInfo")
                return Int(v)
            }
            result.append(CLDeviceInfo(
                index: result.count, platform: platformName, name: try str(CL_DEVICE_NAME),
                version: try str(CL_DEVICE_VERSION), driverVersion: try str(CL_DRIVER_VERSION),
                globalMemoryBytes: try num(CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong.self),
                maxAllocationBytes: try num(CL_DEVICE_MAX_MEM_ALLOC_SIZE, cl_ulong.self),
                computeUnits: try num(CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint.self),
                maxWorkGroupSize: try num(CL_DEVICE_MAX_WORK_GROUP_SIZE, Int.self),
                baseAddressAlignBytes: max(4, try num(CL_DEVICE_MEM_BASE_ADDR_ALIGN, cl_uint.self) / 8),
                isGPU: try num(CL_DEVICE_TYPE, cl_device_type.self) & Int(CL_DEVICE_TYPE_GPU) != 0, id: id))
        }
    }
    return result
}

/// Reads a string-valued clGet*Info property.
func infoString(_ get: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) throws -> String {
    var size = 0
    try check(get(0, nil, &size), "clGet*Info")
    var bytes = [CChar](repeating: 0, count: size + 1)
    try check(get(size, &bytes, nil), "clGet*Info")
    return String(cString: bytes).trimmingCharacters(in: .whitespaces)
}
