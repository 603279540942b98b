//! What differs between Unix and Windows in reading archives and in file modes; what
//! differs in creating, flushing and renaming is the file system layer's
//! (`crate::fs`). Everything else in the unzipper is the same code on every platform.
//!
//! | concern              | Unix                                   | Windows                                        |
//! |----------------------|----------------------------------------|------------------------------------------------|
//! | modes                | 0o644 / 0o755, umask corrected         | none (no execute bit to set)                   |
//! | positional read      | `pread` (`FileExt::read_at`)           | `ReadFile` at an offset (`FileExt::seek_read`) |
//! | opening the archive  | `O_NONBLOCK`, so a FIFO cannot block   | plain (named pipes live outside the file tree) |

use std::fs::{self, File, OpenOptions};
use std::io;

/// The mode of a file: 0o755 if the archive gave it an execute bit, else 0o644.
pub(crate) fn file_mode(executable: bool) -> u32 {
    if executable { 0o755 } else { 0o644 }
}

/// Gives an open file exactly `mode` (Unix; nothing to do on Windows).
pub(crate) fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
        Ok(())
    }
}

/// Reads into `buf` at `offset` without using the file's cursor, so any number of
/// threads can read through one `&File` at once. One call; may return less.
///
/// On Windows `seek_read` does move the cursor, but nothing here uses the cursor, and
/// each call passes its own offset, so concurrent calls do not disturb each other.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
}

/// How to open an archive for reading. On Unix the open is non-blocking
/// (`O_NONBLOCK`): opening a FIFO for reading would otherwise wait for a writer,
/// forever if none comes. The flag changes nothing for a regular file, whose reads
/// never block on it, and the caller refuses anything that is not a regular file.
pub(crate) fn archive_open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options
}

/// A name for a file type that is not a regular file.
pub(crate) fn describe(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO";
        }
        if file_type.is_socket() {
            return "socket";
        }
        if file_type.is_char_device() {
            return "character device";
        }
        if file_type.is_block_device() {
            return "block device";
        }
    }
    if file_type.is_dir() {
        "directory"
    } else {
        "special file"
    }
}
