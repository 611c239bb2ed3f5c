import Foundation
import Reporting

/// An error's reason in one line, without Foundation's dump of domains and user-info dictionaries.
public func describe(_ error: any Error) -> String {
    if let error = error as? CocoaError, let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError,
        underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code))
    {
        return String(cString: strerror(code.rawValue))
    }
    if let error = error as? POSIXError { return String(cString: strerror(error.code.rawValue)) }
    if error is UsageError || error is FileError || error is CSVError { return "\(error)" }
    return (error as NSError).localizedDescription.replacingOccurrences(of: "\n", with: " ")
}
