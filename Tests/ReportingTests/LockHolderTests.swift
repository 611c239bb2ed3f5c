import Testing

@testable import Reporting

/// Parsing `/proc/locks`: hexadecimal device numbers, decimal inodes, waiters skipped.
@Suite struct LockHolderTests {
    static let table = """
        1: POSIX  ADVISORY  WRITE 11 fe:00:5000 0 EOF
        2: FLOCK  ADVISORY  WRITE 1234 fe:00:5000 0 EOF
        2: -> FLOCK  ADVISORY  WRITE 999 fe:00:5000 0 EOF
        3: FLOCK  ADVISORY  WRITE 77 103:0a:5000 0 EOF
        4: FLOCK  ADVISORY  WRITE 88 00:2b:61 0 EOF
        5: FLOCK  ADVISORY  WRITE -1 00:2b:62 0 EOF

        """

    @Test func findsTheFLOCKHolderByDeviceAndInode() {
        #expect(LockHolder.pid(in: Self.table, major: 0xfe, minor: 0, inode: 5000) == 1234)
        #expect(LockHolder.pid(in: Self.table, major: 0x103, minor: 0x0a, inode: 5000) == 77)
    }

    @Test func fallsBackToTheInodeOnlyWhenItIsUnambiguous() {
        #expect(LockHolder.pid(in: Self.table, major: 1, minor: 1, inode: 61) == 88)
        #expect(LockHolder.pid(in: Self.table, major: 1, minor: 1, inode: 5000) == nil)  // 1234 or 77
        #expect(LockHolder.pid(in: Self.table, major: 0, minor: 0x2b, inode: 62) == nil)  // PID not visible
        #expect(LockHolder.pid(in: Self.table, major: 0xfe, minor: 0, inode: 4999) == nil)
    }

    @Test func splitsLinuxDeviceNumbers() {
        #expect(LockHolder.major(0xfe00) == 0xfe && LockHolder.minor(0xfe00) == 0)
        #expect(LockHolder.major(0x10302) == 0x103 && LockHolder.minor(0x10302) == 2)
        // makedev(0x12345, 0xabcdef): the high bits of both sit above bit 32 and bit 20.
        let device: UInt64 = (0x345 << 8) | (0x12000 << 32) | 0xef | (0xabcd00 << 12)
        #expect(LockHolder.major(device) == 0x12345 && LockHolder.minor(device) == 0xabcdef)
    }
}
