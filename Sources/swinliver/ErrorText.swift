import Foundation
import SafeTensors

/// Errors from Foundation (files), the encoders and the OS as one plain sentence naming the file or
/// field, instead of their raw dumps (`NSCocoaErrorDomain Code=260 … UserInfo=`). SwinLiver's own error
/// types already read as sentences and pass through unchanged.
struct PlainError: Error, CustomStringConvertible {
    let description: String

    /// The sentence for `error`, or `error` itself when it is one of SwinLiver's own.
    static func wrapping(_ error: Error) -> Error {
        if let e = error as? EncodingError { return PlainError(description: encoding(e)) }
        if let e = error as? DecodingError { return PlainError(description: e.plainSentence) }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return error }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? Error).map { $0 as NSError }
        let reason: String
        if ns.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(ns.code)))
        } else if let u = underlying, u.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(u.code)))
        } else {
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file"
            case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
            case .fileWriteOutOfSpace: reason = "no space left on the device"
            case .fileReadInapplicableStringEncoding, .fileReadCorruptFile: reason = "not readable as UTF-8 text"
            case .fileReadTooLarge: reason = "too large to read"
            default: reason = "file error \(ns.code)"
            }
        }
        return PlainError(description: path.map { "\($0): \(reason)" } ?? reason)
    }

    private static func encoding(_ e: EncodingError) -> String {
        switch e {
        case .invalidValue(let value, let c): return "cannot write \(codingPathText(c.codingPath)): \(value) is not a valid value"
        @unknown default: return "cannot write the output: an invalid value"
        }
    }
}
