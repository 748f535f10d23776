import Kernels

extension Tape {
    public func conv3d(_ x: Variable, weight: Variable, bias: Variable?, options: Conv3dOptions = .init()) throws -> Variable {
        let be = backend
        let y = try be.conv3d(x.value, weight: weight.value, bias: bias?.value, options: options)
        return record(y, [x, weight] + (bias.map { [$0] } ?? [])) { dy, out in
            let g = try be.conv3dBackward(x.value, weight: weight.value, dy: dy, options: options, dx: out[0], dw: out[1],
                                          db: bias == nil ? .skip : out[2])
            return [g.dx, g.dw] + (bias == nil ? [] : [g.db])
        }
    }

    public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, stride: (Int, Int) = (1, 1),
                       padding: (Int, Int) = (0, 0)) throws -> Variable {
        let be = backend
        let y = try be.conv2d(x.value, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
        return record(y, [x, weight] + (bias.map { [$0] } ?? [])) { dy, out in
            let g = try be.conv2dBackward(x.value, weight: weight.value, dy: dy, stride: stride, padding: padding,
                                          dx: out[0], dw: out[1], db: bias == nil ? .skip : out[2])
            return [g.dx, g.dw] + (bias == nil ? [] : [g.db])
        }
    }

    public func convTranspose3d(_ x: Variable, weight: Variable, bias: Variable?, options: Conv3dOptions) throws -> Variable {
        let be = backend
        let y = try be.convTranspose3d(x.value, weight: weight.value, bias: bias?.value, options: options)
        return record(y, [x, weight] + (bias.map { [$0] } ?? [])) { dy, out in
            let g = try be.convTranspose3dBackward(x.value, weight: weight.value, dy: dy, options: options, dx: out[0],
                                                   dw: out[1], db: bias == nil ? .skip : out[2])
            return [g.dx, g.dw] + (bias == nil ? [] : [g.db])
        }
    }

    public func maxPool2d(_ x: Variable, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0))
        throws -> Variable
    {
        let be = backend
        let (y, arg) = try be.maxPool2d(x.value, kernel: kernel, stride: stride, padding: padding)
        return record(y, [x]) { dy in
            [try be.maxPool2dBackward(x.value, argmax: arg, dy: dy, kernel: kernel, stride: stride, padding: padding)]
        }
    }

    public func avgPool2d(_ x: Variable, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          countIncludePad: Bool = true) throws -> Variable {
        let be = backend
        let y = try be.avgPool2d(x.value, kernel: kernel, stride: stride, padding: padding, countIncludePad: countIncludePad)
        return record(y, [x]) { dy in
            [try be.avgPool2dBackward(x.value, dy: dy, kernel: kernel, stride: stride, padding: padding,
                                      countIncludePad: countIncludePad)]
        }
    }

    public func adaptiveAvgPool2d(_ x: Variable, outputSize: (Int, Int)) throws -> Variable {
        let be = backend
        return record(try be.adaptiveAvgPool2d(x.value, outputSize: outputSize), [x]) { dy in
            [try be.adaptiveAvgPool2dBackward(x.value, dy: dy)]
        }
    }
}
