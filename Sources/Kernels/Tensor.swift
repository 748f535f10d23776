/// Device memory behind a tensor: a CPU allocation or an OpenCL buffer. Freed (or pooled) on deinit.
public protocol DeviceStorage: AnyObject {
    /// Capacity in float32 elements.
    var capacity: Int { get }
}

/// A contiguous float32 tensor that lives on one backend's device. Reading it on the host
/// takes an explicit `backend.download(_:)`; there is no implicit host access.
public final class Tensor: CustomStringConvertible {
    public let shape: Shape
    public let storage: DeviceStorage
    /// A label for error messages ("conv3d output", "swinViT.patch_embed.proj.weight").
    public let name: String
    /// Identifies the backend that owns `storage`.
    let owner: ObjectIdentifier

    init(shape: Shape, storage: DeviceStorage, name: String, owner: ObjectIdentifier) {
        precondition(storage.capacity >= shape.count, "storage too small for \(shape)")
        self.shape = shape
        self.storage = storage
        self.name = name
        self.owner = owner
    }

    public var count: Int { shape.count }

    /// The same memory seen with another shape of equal element count (no copy).
    public func reshaped(_ newShape: Shape) throws -> Tensor {
        guard newShape.count == shape.count else {
            throw ShapeError(op: "reshape", "cannot view \(name) \(shape) as \(newShape)")
        }
        return Tensor(shape: newShape, storage: storage, name: name, owner: owner)
    }

    public var description: String { "Tensor(\(name) \(shape))" }
}
